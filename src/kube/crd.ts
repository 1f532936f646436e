/** CustomResourceDefinitions: wait until the API server has established them. */
import type { KubeClient, KubeObject } from './client.js';

interface CrdStatus {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function crdCondition(
  crd: CrdStatus,
  type: string,
): { status: string; reason?: string; message?: string } | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

/** Polls until every named CRD has Established=True; throws naming the ones that did not, and why. */
export async function waitForCrdsEstablished(
  client: KubeClient,
  names: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...names];
  let last = new Map<string, string>();
  while (pending.length > 0) {
    const results = await Promise.all(
      pending.map(async (name) => {
        const crd = await client.getOrUndefined<KubeObject & CrdStatus>(
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        );
        const established = crd && crdCondition(crd, 'Established');
        const names = crd && crdCondition(crd, 'NamesAccepted');
        const why = !crd
          ? 'not found'
          : names?.status === 'False'
            ? `NamesAccepted=False: ${names.message ?? names.reason}`
            : `Established=${established?.status ?? 'Unknown'}`;
        return { name, ok: established?.status === 'True', why };
      }),
    );
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
