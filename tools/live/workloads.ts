/**
 * The pods controller: what the workload controllers and the scheduler of a real cluster do.
 * Deployments (spec.replicas Pods), DaemonSets (one Pod per Node) and StatefulSets (`<name>-<ordinal>`,
 * claims of volumeClaimTemplates kept as directories) of the namespaces it is given become Pod objects
 * bound to a Node (round-robin); a Deployment's Pods through the ReplicaSet of its current template. A Pod whose template changed (e.g. prometheus-operator rewrote a
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
  for (const rs of await syncReplicaSets(k, namespace, await list('deployments'), await list('replicasets')))
    for (let i = 0; i < (rs.spec.replicas ?? 1); i++)
      make(rs, 'ReplicaSet', `${rs.metadata.name}-${i}`, nodes[next++ % nodes.length]!);
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

/**
 * The ReplicaSet of each Deployment's current template, `<deployment>-<pod-template-hash>`, as the
 * deployment controller keeps it (owned by the Deployment, its Pods labelled `pod-template-hash`, so
 * that a Pod's owner is a ReplicaSet, as the console's workload records expect); ReplicaSets of an older
 * template or of a Deployment that is gone are deleted (no garbage collector runs here). Returns the
 * current ReplicaSets.
 */
async function syncReplicaSets(
  k: Kubelet,
  namespace: string,
  deployments: Obj[],
  replicaSets: Obj[],
): Promise<Obj[]> {
  const path = `/apis/apps/v1/namespaces/${namespace}/replicasets`;
  const out: Obj[] = [];
  const keep = new Set<string>();
  for (const d of deployments) {
    const h = hashOf(d.spec.template).slice(0, 8);
    const name = `${d.metadata.name}-${h}`;
    keep.add(name);
    const template = d.spec.template;
    const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': h };
    const replicas = d.spec.replicas ?? 1;
    let rs = replicaSets.find((r) => r.metadata.name === name);
    if (!rs)
      rs = await k.o.client.request<Obj>('POST', path, {
        body: {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name,
            namespace,
            labels,
            annotations: { 'deployment.kubernetes.io/desired-replicas': String(replicas) },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name: d.metadata.name,
                uid: d.metadata.uid!,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            replicas,
            selector: { matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': h } },
            template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
          },
        },
      });
    else if ((rs.spec.replicas ?? 1) !== replicas)
      rs = await k.o.client.request<Obj>('PATCH', `${path}/${name}`, {
        body: { spec: { replicas } },
        contentType: 'application/merge-patch+json',
      });
    out.push(rs!);
  }
  for (const r of replicaSets)
    if (
      !keep.has(r.metadata.name) &&
      (r.metadata as { ownerReferences?: { kind: string }[] }).ownerReferences?.some(
        (o) => o.kind === 'Deployment',
      )
    )
      await k.o.client.request('DELETE', `${path}/${r.metadata.name}`).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
  return out;
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
  const owners = (o: Obj) =>
    ((o.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences ?? []).map((r) => r.uid);
  const replicaSets = (
    await k.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/replicasets`)
  ).items;
  for (const kind of ['replicasets', 'deployments', 'daemonsets', 'statefulsets'] as const) {
    const items =
      kind === 'replicasets'
        ? replicaSets
        : (await k.o.client.get<{ items: Obj[] }>(`/apis/apps/v1/namespaces/${namespace}/${kind}`)).items;
    for (const w of items) {
      // A Deployment's Pods are those of its ReplicaSets.
      const uids = new Set([
        w.metadata.uid,
        ...(kind === 'deployments'
          ? replicaSets.filter((r) => owners(r).includes(w.metadata.uid!)).map((r) => r.metadata.uid)
          : []),
      ]);
      const owned = pods.filter((p) => owners(p).some((u) => uids.has(u)));
      const total = owned.length;
      const ready = owned.filter((p) => k.pods.get(`${namespace}/${p.metadata.name}`)?.ready).length;
      const generation = w.metadata.generation;
      const status =
        kind === 'replicasets'
          ? {
              observedGeneration: generation,
              replicas: total,
              fullyLabeledReplicas: total,
              readyReplicas: ready,
              availableReplicas: ready,
            }
          : kind === 'deployments'
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
