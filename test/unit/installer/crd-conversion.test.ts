import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { resolveValues } from '../../../src/config/resolve.js';
import { withConversionWebhook } from '../../../src/installer/plan/crd-conversion.js';
import { projectRoot } from '../../../src/paths.js';
import { loadCrds, roleManifests } from '../../../src/installer/plan/role-objects.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { FIXED_FACTS, sampleSpec } from '../roles/golden.js';

const root = projectRoot();
const CRDS = path.join(root, 'crds');
const role = ROLES.find((r) => r.name === 'notification-manager')!;
const { values } = resolveValues(sampleSpec(), FIXED_FACTS);
const crdsOf = () =>
  roleManifests(role, values, createRenderer(path.join(root, 'templates')), CRDS).filter(
    (m) => m.object.kind === 'CustomResourceDefinition',
  );
const conversionOf = (name: string) =>
  (crdsOf().find((m) => m.object.metadata.name === name)?.object.spec as { conversion?: unknown }).conversion;

describe('the conversion webhook of notification-manager’s configs and receivers', () => {
  it('points at the webhook Service in the monitoring namespace, with the webhook CA as caBundle', () => {
    const expected = {
      strategy: 'Webhook',
      webhook: {
        conversionReviewVersions: ['v1'],
        clientConfig: {
          caBundle: Buffer.from(FIXED_FACTS.webhookTls.caCert).toString('base64'),
          service: {
            name: 'notification-manager-webhook',
            namespace: 'kubesphere-monitoring-system',
            path: '/convert',
            port: 443,
          },
        },
      },
    };
    expect(conversionOf('configs.notification.kubesphere.io')).toEqual(expected);
    expect(conversionOf('receivers.notification.kubesphere.io')).toEqual(expected);
  });

  it('leaves the other CRDs, and the CRDs as loaded from crds/, without one', () => {
    for (const name of ['notificationmanagers', 'routers', 'silences'])
      expect(conversionOf(`${name}.notification.kubesphere.io`)).toBeUndefined();
    crdsOf();
    const loaded = loadCrds(CRDS, 'notification.kubesphere.io');
    expect(loaded.filter((m) => (m.object.spec as { conversion?: unknown }).conversion)).toEqual([]);
  });

  it('refuses a CRD name that is not among the loaded files', () => {
    expect(() =>
      withConversionWebhook(
        loadCrds(CRDS, 'notification.kubesphere.io'),
        { crds: ['widgets.notification.kubesphere.io'], service: 's', path: '/convert' },
        values,
      ),
    ).toThrow('conversion webhook for widgets.notification.kubesphere.io: no such CustomResourceDefinition');
  });
});
