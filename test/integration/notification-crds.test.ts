/**
 * notification-manager's CRDs on a real API server: taken over from the original installer, which
 * client-side applied them (`kubectl apply -f crds/`) with a static conversion caBundle, without losing
 * a stored Receiver; Established with their full generated schemas; the conversion webhook of configs
 * and receivers pointing at notification-manager-webhook with the CA of the one webhook Secret; a
 * Receiver with a typo refused (strict field validation) or pruned, and one with a wrong type refused.
 *
 * Conversion itself is not exercised: nothing serves /convert here (the embedded control plane runs no
 * Pods, so no notification-manager operator), and the API server calls the webhook only to read or write a
 * version other than the stored one. Everything below reads and writes v2beta2, the storage version, except
 * one v2beta1 read that shows the API server sends the conversion to notification-manager-webhook's /convert.
 *
 * The notification CRDs are cluster-wide: this file deletes them first (and with them any stored object
 * an earlier file left), so it starts from the original's state whatever ran before.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONVERSION_REVIEW_VERSIONS } from '../../src/installer/plan/crd-conversion.js';
import { loadCrds } from '../../src/installer/plan/role-objects.js';
import { WEBHOOK_SECRET } from '../../src/facts/live.js';
import { issueWebhookTls } from '../../src/facts/webhook-tls.js';
import { waitForCrdsEstablished } from '../../src/kube/crd.js';
import { ApiError, type KubeClient } from '../../src/kube/client.js';
import {
  createClusterConfiguration,
  deleteAndWait,
  ensureMonitoringNamespace,
  kubectlApply,
  MONITORING_NS,
  prepareOperatorTest,
  ROOT,
  sampleClusterConfiguration,
  startOperatorFor,
  type Obj,
} from './fixtures.js';
import type { OperatorProcess } from './operator-process.js';

const GROUP = 'notification.kubesphere.io';
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const RECEIVERS = `/apis/${GROUP}/v2beta2/receivers`;
const VALIDATING_WEBHOOK =
  '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/notification-manager-validating-webhook';
const CONVERTED = [`configs.${GROUP}`, `receivers.${GROUP}`];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const STORED = 'adopted-global-receiver';

const crdObjects = () =>
  loadCrds(path.join(ROOT, 'crds'), GROUP).map((m) => structuredClone(m.object) as Obj);
const crdNames = () => crdObjects().map((c) => c.metadata.name);

/** What the original installer left: the CRDs, those it converts with a static CA of its own, client-side applied. */
async function originalCrds(): Promise<Obj[]> {
  const staticCa = Buffer.from((await issueWebhookTls()).caCert).toString('base64');
  return crdObjects().map((crd) => {
    crd.metadata.labels = { 'original-installer': 'true' };
    if (CONVERTED.includes(crd.metadata.name)) {
      crd.spec.conversion = {
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: ['v1', 'v1beta1'],
          clientConfig: {
            caBundle: staticCa,
            service: { name: 'notification-manager-webhook', namespace: MONITORING_NS, path: '/convert' },
          },
        },
      };
    }
    return crd;
  });
}

function receiver(name: string, webhook: Record<string, unknown>): Obj {
  return {
    apiVersion: `${GROUP}/v2beta2`,
    kind: 'Receiver',
    metadata: { name, labels: { type: 'global' } },
    spec: { webhook },
  };
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected the API server to refuse, got ${String(err)}`);
  return err;
}

describe("notification-manager's CRDs", () => {
  let admin: KubeClient;
  let ns: string;
  let op: OperatorProcess | undefined;
  let stored: Obj;

  beforeAll(async () => {
    ({ admin, ns } = await prepareOperatorTest('notif-crds'));
    await ensureMonitoringNamespace(admin);
    // An earlier run's validating webhook would refuse every Receiver write: nothing serves it here.
    await deleteAndWait(admin, VALIDATING_WEBHOOK);
    for (const name of crdNames()) await deleteAndWait(admin, `${CRD_PATH}/${name}`);
    const out = kubectlApply(await originalCrds());
    expect(out.split('\n').filter((l) => / created$/.test(l))).toHaveLength(5);
    await waitForCrdsEstablished(admin, crdNames());
    stored = await admin.request<Obj>('POST', RECEIVERS, {
      body: receiver(STORED, { enabled: true, url: 'http://webhook.example.invalid/alerts' }),
    });
    await createClusterConfiguration(admin, sampleClusterConfiguration(ns));
  });

  afterAll(async () => {
    if (op) expect(await op.stop()).toBe(0);
  });

  it('start as the original left them: client-side applied, with a stored Receiver', async () => {
    for (const name of crdNames()) {
      const crd = await admin.get<Obj>(`${CRD_PATH}/${name}`);
      expect(crd.metadata.annotations?.[LAST_APPLIED]).toBeDefined();
      expect(crd.metadata.managedFields?.map((f) => f.manager)).toContain('kubectl-client-side-apply');
    }
    expect(stored.metadata.uid).toBeDefined();
  });

  it('are taken over by a run, without conflicts', async () => {
    const started = await startOperatorFor(ns);
    op = started;
    await started.waitFor(/run (succeeded|failed)/, 120_000);
    expect(started.lines.filter((l) => /conflict/i.test(l))).toEqual([]);
    expect(started.count(/run succeeded/)).toBe(1);
    const left: string[] = [];
    for (const name of crdNames()) {
      const crd = await admin.get<Obj>(`${CRD_PATH}/${name}`);
      if (crd.metadata.annotations?.[LAST_APPLIED] !== undefined)
        left.push(`${name}: last-applied annotation`);
      if (crd.metadata.labels?.['original-installer'] !== undefined) left.push(`${name}: original label`);
      const managers = (crd.metadata.managedFields ?? [])
        .filter((f) => !(f as { subresource?: string }).subresource)
        .map((f) => `${f.manager}/${f.operation}`);
      if (managers.join() !== 'ks-installer/Apply') left.push(`${name}: managers ${managers.join(', ')}`);
    }
    expect(left).toEqual([]);
  });

  it('keep the Receiver stored before the take-over, readable as before', async () => {
    const now = await admin.get<Obj>(`${RECEIVERS}/${STORED}`);
    expect(now.metadata.uid).toBe(stored.metadata.uid);
    expect(now.spec).toEqual(stored.spec);
    const list = await admin.get<{ items: Obj[] }>(RECEIVERS);
    expect(list.items.map((r) => r.metadata.name)).toContain(STORED);
  });

  it('are Established, with the full generated schema of every version', async () => {
    for (const file of crdObjects()) {
      const crd = await admin.get<Obj>(`${CRD_PATH}/${file.metadata.name}`);
      const condition = (type: string) =>
        (crd.status.conditions as { type: string; status: string }[]).find((c) => c.type === type)?.status;
      expect({ name: file.metadata.name, established: condition('Established') }).toEqual({
        name: file.metadata.name,
        established: 'True',
      });
      expect(condition('NonStructuralSchema')).toBeUndefined();
      expect(crd.spec.versions.map((v: Obj) => v.schema)).toEqual(
        file.spec.versions.map((v: Obj) => v.schema),
      );
    }
  });

  it('convert configs and receivers through notification-manager-webhook with the CA of the webhook Secret', async () => {
    const secret = await admin.get<Obj>(`/api/v1/namespaces/${MONITORING_NS}/secrets/${WEBHOOK_SECRET}`);
    const ca = secret.data['ca.crt'] as string;
    expect(ca.length).toBeGreaterThan(0);
    for (const name of crdNames()) {
      const crd = await admin.get<Obj>(`${CRD_PATH}/${name}`);
      if (!CONVERTED.includes(name)) {
        expect({ name, strategy: crd.spec.conversion.strategy }).toEqual({ name, strategy: 'None' });
        continue;
      }
      expect(crd.spec.conversion).toEqual({
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: [...CONVERSION_REVIEW_VERSIONS],
          clientConfig: {
            caBundle: ca,
            service: {
              name: 'notification-manager-webhook',
              namespace: MONITORING_NS,
              path: '/convert',
              port: 443,
            },
          },
        },
      });
    }
  });

  it('send a v2beta1 read to notification-manager-webhook /convert (which nothing serves here)', async () => {
    const err = await refusal(admin.get(`/apis/${GROUP}/v2beta1/receivers/${STORED}`));
    expect(err.message).toContain(
      `conversion webhook for ${GROUP}/v2beta2, Kind=Receiver failed: Post "https://notification-manager-webhook.${MONITORING_NS}.svc:443/convert`,
    );
  });

  describe('a Receiver that does not follow the schema', () => {
    beforeAll(async () => {
      // The run installed notification-manager's validating webhook; with no operator serving it, every
      // Receiver write would fail on it. The schema is the API server's own check, so take the webhook away.
      await deleteAndWait(admin, VALIDATING_WEBHOOK);
    });

    it('is refused with strict field validation, naming the unknown field', async () => {
      const err = await refusal(
        admin.request('POST', RECEIVERS, {
          query: { fieldValidation: 'Strict' },
          body: receiver('typo-strict', { enabled: true, url: 'http://x.invalid/', enabeld: true }),
        }),
      );
      expect(err.status).toBe(400);
      expect(err.message).toContain('unknown field "spec.webhook.enabeld"');
    });

    it('is stored without the unknown field otherwise (pruned)', async () => {
      const created = await admin.request<Obj>('POST', RECEIVERS, {
        body: receiver('typo-pruned', { enabled: true, url: 'http://x.invalid/', enabeld: true }),
      });
      expect(created.spec.webhook).toEqual({ enabled: true, url: 'http://x.invalid/' });
      await admin.request('DELETE', `${RECEIVERS}/typo-pruned`);
    });

    it('is refused when a field has the wrong type', async () => {
      const err = await refusal(
        admin.request('POST', RECEIVERS, { body: receiver('wrong-type', { enabled: 'yes' }) }),
      );
      expect(err.status).toBe(422);
      expect(err.message).toContain('spec.webhook.enabled');
    });
  });
});
