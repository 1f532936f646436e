/**
 * Pod networking: the network namespaces of Nodes and Pods (test/support/netns.ts: a veth pair,
 * addresses in 198.18.0.0/15) and the live-fwd forwarders (tools/live/fwd) that let processes in them
 * reach kube-apiserver, which listens on loopback of the root namespace: a unix socket in the root
 * namespace, and in each namespace a listener on 127.0.0.1:<API server port> (what
 * KUBERNETES_SERVICE_HOST/PORT name). A hostNetwork Pod shares its Node's namespace. A Pod running
 * Prometheus must reach every other Pod, and namespaces do not route to each other here (IP forwarding
 * stays off on this host), so it runs in the root namespace with the root end of its veth pair as its
 * address; so does the ThanosRuler, which queries Prometheus. The Endpoints of default/kubernetes point at another veth address where live-fwd serves the
 * API server (Endpoints refuse loopback addresses).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { createNetNs, type NetNs } from '../../test/support/netns.js';
import { imageName } from './images.js';
import { sleep, type Container, type Kubelet, type LivePod, type NodeNet } from './model.js';

/**
 * Images whose Pods must reach every other Pod and the root namespace's addresses: Prometheus (it
 * scrapes every Pod) and the ThanosRuler (it queries Prometheus and sends to Alertmanager).
 */
export const ROOT_NETWORK_IMAGES = new Set(['prometheus', 'thanos']);

/** The root namespace's forwarder to the API server (unix socket), and the API server's veth address. */
export async function startApiForwarders(k: Kubelet): Promise<NetNs> {
  k.fwdPids.push(
    k.spawnLogged('apiserver-forwarder', k.fwdBin, [`unix:${k.socket}`, `tcp:127.0.0.1:${k.apiPort}`], {}),
  );
  for (let i = 0; i < 50 && !existsSync(k.socket); i++) await sleep(100);
  // The API server as the Endpoints of default/kubernetes name it: Endpoints refuse loopback addresses,
  // so it is served (through the socket) on the root end of a veth pair of its own.
  const apiNs = createNetNs();
  k.fwdPids.push(
    k.spawnLogged(
      'apiserver-endpoint',
      k.fwdBin,
      [`tcp:${apiNs.hostIp}:${k.apiPort}`, `unix:${k.socket}`],
      {},
    ),
  );
  return apiNs;
}

/** The network namespace of a Node, made on first sight, with its forwarder to the API server. */
export function nodeNetwork(k: Kubelet, name: string): NodeNet {
  if (!k.nodes.has(name)) {
    const ns = createNetNs();
    k.nodes.set(name, { ns, ip: ns.podIp });
    const fwd = k.spawnLogged(
      `node-${name}-apiserver-forwarder`,
      'ip',
      ['netns', 'exec', ns.name, k.fwdBin, `tcp:127.0.0.1:${k.apiPort}`, `unix:${k.socket}`],
      {},
    );
    k.fwdPids.push(fwd);
  }
  return k.nodes.get(name)!;
}

/**
 * A Pod's address and namespace: its Node's for a hostNetwork Pod, else a namespace of its own with a
 * forwarder to the API server (the root namespace, at the root end of its veth pair, for Prometheus).
 */
export function podNetwork(k: Kubelet, live: LivePod, node: NodeNet, all: Container[]): void {
  const namespace = live.namespace;
  if (live.hostNetwork) {
    live.ns = node.ns;
    live.ip = node.ip;
  } else {
    live.rootNetwork = all.some((c) => ROOT_NETWORK_IMAGES.has(imageName(c.image)));
    live.ns = createNetNs();
    live.ip = live.rootNetwork ? live.ns.hostIp : live.ns.podIp;
    if (!live.rootNetwork) {
      live.containers.push({
        name: 'apiserver-forwarder',
        tool: 'live-fwd',
        restarts: 0,
        startedAt: '',
        stopped: false,
      });
      const fwd = live.containers[0]!;
      fwd.child = k.spawnLogged(
        `${namespace}_${live.name}_forwarder`,
        'ip',
        ['netns', 'exec', live.ns.name, k.fwdBin, `tcp:127.0.0.1:${k.apiPort}`, `unix:${k.socket}`],
        {},
      );
      fwd.pid = fwd.child.pid;
    }
  }
}

/** A port of this host's loopback, exposed at an address Endpoints accept. */
export interface ExposedPort {
  name: string;
  /** The root end of a veth pair of its own: what the Endpoints name. */
  address: string;
  port: number;
  ns: NetNs;
  child: ChildProcess;
  remove(): void;
}

/**
 * Exposes a control-plane component that listens on loopback (the embedded etcd) where a ServiceMonitor's
 * Endpoints can name it: live-fwd listening on `<address>:<port>`, the root end of a veth pair made for
 * it, copying to `127.0.0.1:<target>`. Only Prometheus (in the root namespace) dials it.
 */
export function exposeLoopbackPort(
  fwdBin: string,
  logDir: string,
  name: string,
  target: number,
  port: number,
): ExposedPort {
  const ns = createNetNs();
  const fd = openSync(path.join(logDir, `${name}-forwarder.log`), 'a');
  const child = spawn(fwdBin, [`tcp:${ns.hostIp}:${port}`, `tcp:127.0.0.1:${target}`], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return {
    name,
    address: ns.hostIp,
    port,
    ns,
    child,
    remove: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      ns.remove();
    },
  };
}
