/**
 * The status and Endpoints writer: what the kubelets, the node lifecycle controller and the endpoints
 * controller of a real cluster write. Nodes get their address, this machine's CPU and memory as
 * capacity, and Ready; a running Pod gets its IP, phase Running and Ready once its readiness probe passes
 * (or every container port has a listener in the Pod's namespace, read from /proc/<pid>/net/tcp). The
 * Endpoints of every Service with a selector are written from the ready Pods, and those of
 * default/kubernetes point at the API server's veth address.
 */
import { cpus, totalmem } from 'node:os';
import { hashOf, isNotFound, type Container, type Kubelet, type LivePod, type Obj } from './model.js';
import { KUBELET_PORT } from './kubelet-endpoints.js';
import { nodeNetwork } from './network.js';
import { listeningPorts } from './runner.js';

/** The Node's status as its kubelet would write it: its address, this machine's capacity, Ready. */
export async function syncNode(k: Kubelet, n: Obj): Promise<void> {
  const name = n.metadata.name;
  const { ip } = nodeNetwork(k, name);
  const now = new Date().toISOString();
  const capacity = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
  };
  const status = {
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    capacity,
    allocatable: capacity,
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'process kubelet (tools/live)',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.34.4',
      kubeProxyVersion: '',
      architecture: 'amd64',
      operatingSystem: 'linux',
      osImage: 'process kubelet',
      kernelVersion: '',
      containerRuntimeVersion: 'process://',
      bootID: '',
      machineID: '',
      systemUUID: '',
    },
  };
  const addrNow = JSON.stringify(n.status?.addresses ?? []);
  if (addrNow !== JSON.stringify(status.addresses) || n.status?.conditions?.[0]?.status !== 'True') {
    await k.o.client.request('PATCH', `/api/v1/nodes/${name}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  }
}

export async function reportStatus(k: Kubelet, live: LivePod): Promise<void> {
  const now = new Date().toISOString();
  let status: Record<string, unknown>;
  if (live.pending) {
    status = {
      phase: 'Pending',
      ...(k.nodes.get(live.node) ? { hostIP: k.nodes.get(live.node)!.ip } : {}),
      reason: 'NoLocalBuild',
      message: live.pending,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'NoLocalBuild', message: live.pending },
      ],
    };
  } else {
    const specContainers: Container[] = live.pod.spec.containers;
    const statuses = await Promise.all(
      specContainers.map(async (c) => {
        const rc = live.containers.find((x) => x.name === c.name);
        const running = !!rc?.child && rc.child.exitCode === null && rc.child.signalCode === null;
        const ready = running && rc?.pid !== undefined && (await probe(k, live, c, rc.pid));
        return {
          name: c.name,
          image: c.image,
          imageID: '',
          ready,
          started: running,
          restartCount: rc?.restarts ?? 0,
          state: running
            ? { running: { startedAt: rc!.startedAt } }
            : { waiting: { reason: rc ? 'CrashLoopBackOff' : 'PodInitializing' } },
        };
      }),
    );
    live.ready = statuses.every((s) => s.ready);
    const cond = live.ready ? 'True' : 'False';
    status = {
      phase: 'Running',
      hostIP: k.nodes.get(live.node)!.ip,
      podIP: live.ip,
      podIPs: [{ ip: live.ip }],
      startTime: live.pod.status?.startTime ?? now,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: cond },
        { type: 'Ready', status: cond },
      ],
      containerStatuses: statuses,
    };
  }
  const digest = hashOf(status);
  if (live.statusSent === digest) return;
  await k.o.client.request('PATCH', `/api/v1/namespaces/${live.namespace}/pods/${live.name}/status`, {
    body: { status },
    contentType: 'application/merge-patch+json',
  });
  live.statusSent = digest;
}

/**
 * A container's readiness: its readinessProbe (httpGet from the root namespace to the Pod's address,
 * tcpSocket as a listener in the Pod's namespace), else a listener on each of its TCP ports.
 */
export async function probe(k: Kubelet, live: LivePod, c: Container, pid: number): Promise<boolean> {
  const portOf = (p: number | string) =>
    typeof p === 'number' ? p : ((c.ports ?? []).find((x) => x.name === p)?.containerPort ?? Number(p));
  const probe = c.readinessProbe;
  if (probe?.httpGet) {
    const url = `${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${live.ip}:${portOf(probe.httpGet.port)}${probe.httpGet.path ?? '/'}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status >= 200 && res.status < 400;
    } catch {
      return false;
    }
  }
  const ports = listeningPorts(pid);
  if (probe?.tcpSocket) return ports.has(portOf(probe.tcpSocket.port));
  return (c.ports ?? [])
    .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
    .every((p) => ports.has(p.containerPort));
}

/** default/kubernetes: the API server at its veth address (kube-apiserver itself advertises 127.0.0.1). */
export async function syncApiServerEndpoints(k: Kubelet): Promise<void> {
  const subsets = [
    {
      addresses: [{ ip: k.apiNs!.hostIp }],
      ports: [{ name: 'https', port: Number(k.apiPort), protocol: 'TCP' }],
    },
  ];
  await putEndpoints(k, 'default', 'kubernetes', {}, subsets);
}

export async function putEndpoints(
  k: Kubelet,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  subsets: unknown[],
): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets };
  const p = `/api/v1/namespaces/${namespace}/endpoints/${name}`;
  const current = await k.o.client.get<Obj & { subsets?: unknown[] }>(p).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  if (!current) await k.o.client.request('POST', `/api/v1/namespaces/${namespace}/endpoints`, { body });
  else if (JSON.stringify(current.subsets ?? []) !== JSON.stringify(subsets))
    await k.o.client.request('PUT', p, {
      body: {
        ...body,
        metadata: {
          ...body.metadata,
          labels: current.metadata.labels ?? labels,
          resourceVersion: current.metadata.resourceVersion,
        },
      },
    });
}

/** Endpoints of every Service with a selector: the ready Pods it selects, its ports resolved. */
export async function syncEndpoints(k: Kubelet, namespace: string, pods: Obj[]): Promise<void> {
  const services = (await k.o.client.get<{ items: Obj[] }>(`/api/v1/namespaces/${namespace}/services`)).items;
  for (const svc of services) {
    const selector: Record<string, string> | undefined = svc.spec.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const selected = pods.filter((p) =>
      Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
    );
    const ready = selected.filter((p) => k.pods.get(`${namespace}/${p.metadata.name}`)?.ready);
    const subsets = [] as unknown[];
    if (ready.length > 0) {
      const first = ready[0]!;
      const ports = (svc.spec.ports ?? []).map(
        (sp: { name?: string; port: number; targetPort?: number | string; protocol?: string }) => {
          let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
          if (typeof sp.targetPort === 'string') {
            for (const c of first.spec.containers as Container[])
              for (const cp of c.ports ?? []) if (cp.name === sp.targetPort) port = cp.containerPort;
          }
          return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
        },
      );
      subsets.push({
        addresses: ready
          .map((p) => ({
            ip: k.pods.get(`${namespace}/${p.metadata.name}`)!.ip,
            nodeName: p.spec.nodeName,
            targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid },
          }))
          .sort((a, b) => a.targetRef.name.localeCompare(b.targetRef.name)),
        ports,
      });
    }
    await putEndpoints(k, namespace, svc.metadata.name, svc.metadata.labels ?? {}, subsets);
  }
}
