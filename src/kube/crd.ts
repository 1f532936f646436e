/**
 * CustomResourceDefinitions: wait until the API server has established them. A CRD can stay
 * NamesAccepted=True, Established=False for good when kube-apiserver restarts while it is being
 * created: the establishing controller is queued only by an update event of the CRD, and re-applying
 * the same CRD changes nothing. Such a CRD is nudged: an annotation bump is a real update, which
 * queues it again (Established in well under a second on a single API server).
 */
import { CONTENT_TYPE, type KubeClient, type KubeObject } from './client.js';

/** The annotation a nudge bumps (the time of the nudge). */
export const NUDGE_ANNOTATION = 'installer.kubesphere.io/establish-nudge';

interface CrdStatus {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function crdCondition(
  crd: CrdStatus,
  type: string,
): { status: string; reason?: string; message?: string } | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

export interface EstablishOptions {
  timeoutMs?: number;
  /** How long a CRD may stay NamesAccepted but not Established before it is nudged (and again after as long). */
  nudgeAfterMs?: number;
  /** Told about each nudge (the operator logs a warning naming the CRD). */
  onNudge?: (name: string, stuckMs: number) => void;
}

const crdPath = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

/** Bumps the nudge annotation: an update event that queues the CRD in the establishing controller. */
export async function nudgeCrd(client: KubeClient, name: string): Promise<void> {
  await client.request('PATCH', crdPath(name), {
    query: { fieldManager: 'ks-installer-establish-nudge' },
    body: { metadata: { annotations: { [NUDGE_ANNOTATION]: new Date().toISOString() } } },
    contentType: CONTENT_TYPE.merge,
  });
}

/**
 * Polls until every named CRD has Established=True, nudging those stuck NamesAccepted but not
 * Established; throws naming the ones that did not, and why.
 */
export async function waitForCrdsEstablished(
  client: KubeClient,
  names: string[],
  optionsOrTimeoutMs: EstablishOptions | number = {},
): Promise<void> {
  const options =
    typeof optionsOrTimeoutMs === 'number' ? { timeoutMs: optionsOrTimeoutMs } : optionsOrTimeoutMs;
  const { timeoutMs = 60_000, nudgeAfterMs = 5_000 } = options;
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  let last = new Map<string, string>();
  /** Since when each CRD is seen NamesAccepted but not Established (reset by a nudge). */
  const stuckSince = new Map<string, number>();
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map(async (name) => {
        const crd = await client.getOrUndefined<KubeObject & CrdStatus>(crdPath(name));
        const established = crd && crdCondition(crd, 'Established');
        const names = crd && crdCondition(crd, 'NamesAccepted');
        const why = !crd
          ? 'not found'
          : names?.status === 'False'
            ? `NamesAccepted=False: ${names.message ?? names.reason}`
            : `Established=${established?.status ?? 'Unknown'}`;
        const ok = established?.status === 'True';
        if (ok || names?.status !== 'True') stuckSince.delete(name);
        else if (!stuckSince.has(name)) stuckSince.set(name, Date.now());
        return { name, ok, why };
      }),
    );
    for (const [name, since] of stuckSince) {
      const stuckMs = Date.now() - since;
      if (stuckMs < nudgeAfterMs) continue;
      options.onNudge?.(name, stuckMs);
      await nudgeCrd(client, name);
      stuckSince.set(name, Date.now());
    }
    pending = results.filter((r) => !r.ok).map((r) => r.name);
    last = new Map(results.map((r) => [r.name, r.why]));
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `CRDs not established after ${timeoutMs / 1000}s: ${pending.map((n) => `${n} (${last.get(n)})`).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
