/**
 * Linux network namespaces for tests that need "pods" and "nodes" with addresses of their own (the
 * Endpoints API refuses loopback addresses). Everything a test creates here is named
 * `ksi-<pid>-<name>`, removed by `remove()`, and also when the process exits, however it exits short of
 * SIGKILL; what a killed process left is removed by the next `create` (its pid is gone).
 *
 * - `create(name, cidr)`: a namespace linked to this (root) namespace by a veth pair: `hostIp` on our
 *   side, `podIp` inside, both in `cidr` (a /30 or larger: the first two host addresses).
 * - `createNetwork(name, cidr, members)`: a switched network (a bridge inside a namespace of its own) that
 *   this namespace and each member namespace join with one address each, so members reach each other
 *   without this host forwarding packets (ip_forward stays as it is).
 * - `freeCidr(prefix)`: a 10.2xx.y.0 subnet no interface of this namespace uses.
 * Needs root and `ip` (iproute2). Traffic stays between this namespace and the ones created here.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { execa, type Options, type Result } from 'execa';

const PREFIX = 'ksi-';
const created = new Set<string>();
let exitHookInstalled = false;

function ip(args: string[]): Promise<Result> {
  return execa('ip', args, { stdio: 'pipe' });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces and root-side links of processes that are gone (killed before they could clean up). */
export function reapLeftovers(): number {
  let removed = 0;
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = Number(/^ksi-(\d+)-/.exec(name)?.[1]);
    if (!pid || alive(pid)) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      removed += 1;
    } catch {
      // already gone
    }
  }
  return removed;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const name of created) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    created.clear();
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

/** Host addresses of an IPv4 subnet `a.b.c.d/len`: the n-th one (1-based). */
export function hostAddress(cidr: string, n: number): string {
  const [base, len] = cidr.split('/');
  const prefix = Number(len);
  const value = base!.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  if (n < 1 || n >= size - 1) throw new Error(`${cidr} has no host address number ${n}`);
  const network = value - (value % size);
  const addr = network + n;
  return [24, 16, 8, 0].map((shift) => Math.floor(addr / 2 ** shift) % 256).join('.');
}

/** A 10.2xx.y.0/`prefix` subnet that no address of this namespace falls into. */
export function freeCidr(prefix = 24): string {
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const second = 200 + Math.floor(Math.random() * 50);
    const third = Math.floor(Math.random() * 256);
    const head = `10.${second}.${third}.`;
    if (!used.includes(` ${head}`)) return `${head}0/${prefix}`;
  }
  throw new Error('no free 10.2xx.y.0 subnet found');
}

export interface Netns {
  /** The namespace's name for `ip netns exec`. */
  ns: string;
  /** Our (root) side of the link, when the namespace is linked to this namespace. */
  hostIp: string;
  /** The namespace's own address. */
  podIp: string;
  /** Runs a command inside the namespace to completion. */
  exec(cmd: string, args: string[], options?: Options): Promise<Result>;
  /** Starts a long-running command inside the namespace. */
  spawn(cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
  remove(): Promise<void>;
}

let counter = 0;

/** `ksi-<pid>-<name>` and a short interface stem (interface names have at most 15 characters). */
function names(name: string): { ns: string; stem: string } {
  counter += 1;
  return { ns: `${PREFIX}${process.pid}-${name}`, stem: `k${process.pid % 100000}x${counter}` };
}

async function addNamespace(ns: string): Promise<void> {
  installExitHook();
  reapLeftovers();
  await ip(['netns', 'add', ns]);
  created.add(ns);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

async function removeNamespace(ns: string): Promise<void> {
  if (!created.delete(ns)) return;
  await ip(['netns', 'del', ns]).catch(() => undefined);
}

function handle(ns: string, hostIp: string, podIp: string, remove: () => Promise<void>): Netns {
  return {
    ns,
    hostIp,
    podIp,
    exec: (cmd, args, options) => execa('ip', ['netns', 'exec', ns, cmd, ...args], options),
    spawn: (cmd, args, options = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], options),
    remove,
  };
}

/** A namespace linked to this one by a veth pair: hostIp (ours) and podIp (its) are the first two addresses of `cidr`. */
export async function create(name: string, cidr: string): Promise<Netns> {
  const { ns, stem } = names(name);
  const prefix = cidr.split('/')[1];
  const hostIp = hostAddress(cidr, 1);
  const podIp = hostAddress(cidr, 2);
  await addNamespace(ns);
  try {
    // The root-side end goes with the namespace: deleting a namespace deletes its veth and so the pair.
    await ip(['link', 'add', `${stem}h`, 'type', 'veth', 'peer', 'name', `${stem}p`, 'netns', ns]);
    await ip(['addr', 'add', `${hostIp}/${prefix}`, 'dev', `${stem}h`]);
    await ip(['link', 'set', `${stem}h`, 'up']);
    await ip(['-n', ns, 'addr', 'add', `${podIp}/${prefix}`, 'dev', `${stem}p`]);
    await ip(['-n', ns, 'link', 'set', `${stem}p`, 'up']);
  } catch (err) {
    await removeNamespace(ns);
    throw err;
  }
  return handle(ns, hostIp, podIp, () => removeNamespace(ns));
}

export interface Network {
  /** This (root) namespace's address on the network. */
  hostIp: string;
  members: Netns[];
  remove(): Promise<void>;
}

/**
 * A switched network: a bridge in a namespace of its own; this namespace joins with the first address
 * of `cidr`, member i (0-based) with address i + 2. Each member is a namespace of its own.
 */
export async function createNetwork(name: string, cidr: string, members: string[]): Promise<Network> {
  const prefix = cidr.split('/')[1];
  const { ns: lan, stem } = names(`${name}-lan`);
  const made: string[] = [];
  const removeAll = async () => {
    for (const ns of [...made].reverse()) await removeNamespace(ns);
  };
  try {
    await addNamespace(lan);
    made.push(lan);
    await ip(['-n', lan, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', lan, 'link', 'set', 'br0', 'up']);
    const join = async (port: string, peerName: string, peerNs: string | undefined, address: string) => {
      // One end in the lan namespace on the bridge, the other in the member (or here).
      if (peerNs) {
        await ip(['-n', lan, 'link', 'add', port, 'type', 'veth', 'peer', 'name', peerName, 'netns', peerNs]);
      } else {
        await ip(['link', 'add', peerName, 'type', 'veth', 'peer', 'name', port, 'netns', lan]);
      }
      await ip(['-n', lan, 'link', 'set', port, 'master', 'br0']);
      await ip(['-n', lan, 'link', 'set', port, 'up']);
      const inPeer = peerNs ? ['-n', peerNs] : [];
      await ip([...inPeer, 'addr', 'add', `${address}/${prefix}`, 'dev', peerName]);
      await ip([...inPeer, 'link', 'set', peerName, 'up']);
    };
    const hostIp = hostAddress(cidr, 1);
    await join(`${stem}r`, `${stem}h`, undefined, hostIp);
    const handles: Netns[] = [];
    for (const [i, member] of members.entries()) {
      const { ns, stem: s } = names(`${name}-${member}`);
      await addNamespace(ns);
      made.push(ns);
      const podIp = hostAddress(cidr, i + 2);
      await join(`${s}b`, 'eth0', ns, podIp);
      handles.push(handle(ns, hostIp, podIp, () => removeNamespace(ns)));
    }
    return { hostIp, members: handles, remove: removeAll };
  } catch (err) {
    await removeAll();
    throw err;
  }
}
