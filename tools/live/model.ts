/**
 * The process kubelet's model: the Pod, container and option types its modules share, the state they
 * act on (`Kubelet`, which ProcessKubelet implements), and small helpers ($(VAR) expansion, hashes).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ApiError, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import type { NetNs } from '../../test/support/netns.js';
import type { PodDns } from './dns.js';

export type Obj = KubeObject & { spec?: any; status?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      fieldRef?: { fieldPath: string };
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  readinessProbe?: {
    httpGet?: { path?: string; port: number | string; scheme?: string };
    tcpSocket?: { port: number | string };
  };
}

export interface RunningContainer {
  name: string;
  tool: string;
  child?: ChildProcess;
  pid?: number;
  restarts: number;
  startedAt: string;
  stopped: boolean;
}

export interface LivePod {
  namespace: string;
  name: string;
  uid: string;
  hash: string;
  node: string;
  ip: string;
  ns?: NetNs;
  rootNetwork: boolean;
  hostNetwork: boolean;
  dir: string;
  pod: Obj;
  containers: RunningContainer[];
  ready: boolean;
  pending?: string;
  volumeDigest: Map<string, string>;
  statusSent?: string;
}

export interface ProcessKubeletOptions {
  client: KubeClient;
  /** https://127.0.0.1:<port> of the API server. */
  server: string;
  /** The API server's CA (PEM): the projected ca.crt. */
  caPem: string;
  /** Working directory: Pods' files, claims and logs. */
  dir: string;
  /** Namespaces whose Deployments, DaemonSets, StatefulSets and Services are handled. */
  namespaces: string[];
  log?: (line: string) => void;
  /** Ports of this host exposed for scraping (network.ts exposeLoopbackPort): listed among the processes. */
  exposed?: { name: string; child: ChildProcess }[];
  /** How often workloads, Pods, mounted volumes and Endpoints are synced (ms). */
  syncMs?: number;
  /**
   * Directories of this host bind-mounted into every container (e.g. a filesystem object-storage bucket
   * that the Thanos sidecars, Store and rulers share, as they would share a bucket over the network).
   */
  sharedDirs?: { hostPath: string; mountPath: string }[];
}

/** A Node the process kubelet stands for: its network namespace and address. */
export interface NodeNet {
  ns: NetNs;
  ip: string;
}

/** What the modules of the process kubelet share: its options, Pods, Nodes, tools and forwarders. */
export interface Kubelet {
  readonly o: ProcessKubeletOptions;
  readonly pods: Map<string, LivePod>;
  readonly nodes: Map<string, NodeNet>;
  readonly tools: Map<string, string | undefined>;
  readonly apiPort: string;
  readonly socket: string;
  readonly fwdPids: ChildProcess[];
  readonly fwdBin: string;
  readonly apiNs?: NetNs;
  readonly stopped: boolean;
  readonly log: (line: string) => void;
  /** The Pods' DNS (dns.ts). */
  readonly dns: PodDns;
  spawnLogged(logName: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const isNotFound = (e: unknown) => e instanceof ApiError && e.notFound;

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 10);
}

/** Expands $(VAR) as the kubelet does; $$(VAR) stays literal. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m,
  );
}
