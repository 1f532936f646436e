/**
 * The pods controller: what the workload controllers and the scheduler of a real cluster do.
 * Deployments (spec.replicas Pods), DaemonSets (one Pod per Node) and StatefulSets (`<name>-<ordinal>`,
 * claims of volumeClaimTemplates kept as directories) of the namespaces it is given become Pod objects
 * bound to a Node (round-robin). A Pod whose template changed (e.g. prometheus-operator rewrote a
 * StatefulSet after a `kubectl edit cc`) is stopped, deleted and made again. The workloads' status
 * (replica counts, observedGeneration) is written from the Pods they own. The ServiceAccount `default`
 * of each namespace is made, as the serviceaccount controller does.
 */
import { hashOf, isNotFound, type Kubelet, type Obj } from './model.js';
import { stopPod } from './runner.js';

/** The Pods the workloads of a namespace call for, by name. */
export async function desiredPods(k: Kubelet, namespace: string, nodes: string[]): Promise<Map<string, Obj>> {
  const want = new Map<string, Obj>();
  const list = async (kind: string) =>
    (await k.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/${kind}`)).items;
  const make = (owner: Obj, kind: string, name: string, node: string, extraVolumes: unknown[] = []) => {
    const template = owner.spec.template;
    const hash = hashOf({ template, extraVolumes });
    const spec = { ...template.spec, nodeName: node };
    if (extraVolumes.length) spec.volumes = [...(spec.volumes ?? []), ...extraVolumes];
    want.set(name, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: {
          ...(template.metadata?.labels ?? {}),
          ...(kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': name } : {}),
        },
        annotations: {
          ...(template.metadata?.annotations ?? {}),
          'live.ks-installer.io/template-hash': hash,
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind,
            name: owner.metadata.name,
            uid: owner.metadata.uid!,
            controller: true,
          },
        ],
      },
      spec: kind === 'StatefulSet' ? { ...spec, hostname: name, subdomain: owner.spec.serviceName } : spec,
    });
  };
  let next = 0;
  for (const d of await list('deployments')) {
    const h = hashOf(d.spec.template).slice(0, 8);
    for (let i = 0; i < (d.spec.replicas ?? 1); i++)
      make(d, 'Deployment', `${d.metadata.name}-${h}-${i}`, nodes[next++ % nodes.length]!);
  }
  for (const ds of await list('daemonsets'))
    for (const node of nodes) make(ds, 'DaemonSet', `${ds.metadata.name}-${node}`, node);
  for (const s of await list('statefulsets')) {
    for (let i = 0; i < (s.spec.replicas ?? 1); i++) {
      const name = `${s.metadata.name}-${i}`;
      const claims = (s.spec.volumeClaimTemplates ?? []).map((t: Obj) => ({
        name: t.metadata.name,
        persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}` },
      }));
      make(s, 'StatefulSet', name, nodes[next++ % nodes.length]!, claims);
    }
  }
  return want;
}

export async function deletePod(k: Kubelet, namespace: string, name: string): Promise<void> {
  const key = `${namespace}/${name}`;
  const live = k.pods.get(key);
  if (live) {
    k.log(`pod ${key}: template changed or workload gone, stopping`);
    await stopPod(k, live);
    k.pods.delete(key);
  }
  await k.o.client
    .request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, { query: { gracePeriodSeconds: 0 } })
    .catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
}

/**
 * The status a workload controller would write: replica counts from the Pods it owns and their
 * readiness, observedGeneration = generation (kube-state-metrics reads both).
 */
export async function syncWorkloadStatus(k: Kubelet, namespace: string, pods: Obj[]): Promise<void> {
  for (const kind of ['deployments', 'daemonsets', 'statefulsets'] as const) {
    const items = (await k.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/${kind}`))
      .items;
    for (const w of items) {
      const owned = pods.filter((p) =>
        ((p.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences ?? []).some(
          (o) => o.uid === w.metadata.uid,
        ),
      );
      const total = owned.length;
      const ready = owned.filter((p) => k.pods.get(`${namespace}/${p.metadata.name}`)?.ready).length;
      const generation = w.metadata.generation;
      const status =
        kind === 'deployments'
          ? {
              observedGeneration: generation,
              replicas: total,
              updatedReplicas: total,
              readyReplicas: ready,
              availableReplicas: ready,
              unavailableReplicas: total - ready,
            }
          : kind === 'daemonsets'
            ? {
                observedGeneration: generation,
                desiredNumberScheduled: total,
                currentNumberScheduled: total,
                updatedNumberScheduled: total,
                numberReady: ready,
                numberAvailable: ready,
                numberUnavailable: total - ready,
                numberMisscheduled: 0,
              }
            : {
                observedGeneration: generation,
                replicas: total,
                currentReplicas: total,
                updatedReplicas: total,
                readyReplicas: ready,
                availableReplicas: ready,
              };
      const now = w.status ?? {};
      if (Object.entries(status).every(([k, v]) => (now[k] ?? 0) === v)) continue;
      await k.o.client.request(
        'PATCH',
        `/apis/apps/v1/namespaces/${namespace}/${kind}/${w.metadata.name}/status`,
        {
          body: { status },
          contentType: 'application/merge-patch+json',
        },
      );
    }
  }
}

const serviceAccountsMade = new WeakMap<Kubelet, Set<string>>();

/**
 * The ServiceAccount `default` of a namespace, as kube-controller-manager's serviceaccount controller
 * makes it: Pods that name no ServiceAccount (prometheus-operator's ThanosRuler) are refused without it.
 */
export async function ensureDefaultServiceAccount(k: Kubelet, namespace: string): Promise<void> {
  const made = serviceAccountsMade.get(k) ?? new Set<string>();
  serviceAccountsMade.set(k, made);
  if (made.has(namespace)) return;
  const existing = await k.o.client.getOrUndefined(`/api/v1/namespaces/${namespace}/serviceaccounts/default`);
  if (!existing)
    await k.o.client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
    });
  made.add(namespace);
}
