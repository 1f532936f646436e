/**
 * The alerting module on the ClusterConfiguration: the condition Alerting and status.alerting, from a
 * run's plan (src/installer/report/alerting-state.ts).
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { ClusterConfiguration } from '../../../src/api/cluster-configuration.js';
import { alertingState, alertingStatus } from '../../../src/installer/report/alerting-state.js';
import { projectRoot } from '../../../src/paths.js';
import { makePlan } from '../../../src/installer/plan/make-plan.js';
import { ROLES } from '../../../src/installer/catalog.js';
import { createRenderer } from '../../../src/render/renderer.js';
import { FIXED_FACTS, sampleSpec } from '../roles/golden.js';

const root = projectRoot();
const plan = (spec: Record<string, unknown>, roles = ROLES) =>
  makePlan(spec, FIXED_FACTS, {
    renderer: createRenderer(path.join(root, 'templates')),
    crdsRoot: path.join(root, 'crds'),
    roles,
    validate: false,
  });
const on = { ...sampleSpec(), alerting: { enabled: true } };
const cc = (alerting?: unknown): ClusterConfiguration =>
  ({
    apiVersion: 'installer.kubesphere.io/v1alpha1',
    kind: 'ClusterConfiguration',
    metadata: { name: 'ks-installer' },
    ...(alerting === undefined ? {} : { status: { alerting } }),
  }) as ClusterConfiguration;

describe('condition Alerting', () => {
  it('True while the ruler is installed, naming where it queries and sends', async () => {
    expect(alertingState(await plan(on))).toEqual({
      status: 'True',
      reason: 'Enabled',
      message: expect.stringMatching(
        /^ThanosRuler kubesphere \(2 replicas\).*queries http:\/\/prometheus-operated\.kubesphere-monitoring-system\.svc:9090 and sends to dnssrv\+http:\/\/_web\._tcp\.alertmanager-operated/,
      ),
    });
  });

  it('False when off, and with external monitoring (what to do instead)', async () => {
    expect(alertingState(await plan(sampleSpec()))).toMatchObject({ status: 'False', reason: 'Disabled' });
    const external = alertingState(await plan({ ...on, common: { monitoring: { type: 'external' } } }));
    expect(external).toMatchObject({ status: 'False', reason: 'ExternalMonitoring' });
    expect(external!.message).toContain('external Prometheus');
  });

  it('absent when the run does not include the role (watches.yaml)', async () => {
    expect(
      alertingState(
        await plan(
          on,
          ROLES.filter((r) => r.name !== 'alerting'),
        ),
      ),
    ).toBeUndefined();
  });
});

describe('status.alerting', () => {
  it('set once when applied, kept after; removed when off; untouched without the role', async () => {
    const applied = await plan(on);
    expect(alertingStatus(cc(), applied)).toEqual({
      status: 'enabled',
      enabledTime: expect.stringMatching(/Z$/),
    });
    expect(alertingStatus(cc({ status: 'enabled', enabledTime: 't' }), applied)).toBeUndefined();
    const off = await plan(sampleSpec());
    expect(alertingStatus(cc({ status: 'enabled', enabledTime: 't' }), off)).toBeNull();
    expect(alertingStatus(cc(), off)).toBeUndefined();
    const without = await plan(
      sampleSpec(),
      ROLES.filter((r) => r.name !== 'alerting'),
    );
    expect(alertingStatus(cc({ status: 'enabled' }), without)).toBeUndefined();
  });
});
