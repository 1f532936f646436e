/**
 * Linux network namespaces for tests: a "pod" or "node" with an address of its own, reachable from this
 * host's root namespace over a veth pair, so that traffic stays on this machine (the Endpoints API
 * refuses loopback addresses, so a target Prometheus scrapes through a Service must live here).
 *
 * Addresses come from 198.18.0.0/15 (set aside for network tests, RFC 2544): each namespace gets a /30,
 * the root end .1, the namespace end .2. Names carry the creating process's pid (`ks<pid>-<n>`), so a
 * later call removes what a killed process left, and concurrent test processes never collide.
 * Everything is removed by `remove()`, and on exit, SIGINT and SIGTERM of the creating process.
 * Needs root and `ip` (iproute2).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface NetNs {
  /** The namespace's name (`ip netns exec <name> …`). */
  name: string;
  /** The root namespace's end of the veth pair. */
  hostIp: string;
  /** The namespace's own address: what a Pod's or Node's status reports. */
  podIp: string;
  /** Starts a process inside the namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace and returns its standard output. */
  exec(command: string, args: string[]): string;
  remove(): void;
}

const live = new Set<NetNs>();
let counter = 0;
let hooked = false;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quietly(f: () => unknown): void {
  try {
    f();
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces and links that a process that has since died left behind. */
export function sweepStaleNamespaces(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = /^ks(\d+)-(\d+)\b/.exec(line.trim());
    if (!m || alive(Number(m[1]))) continue;
    quietly(() => ip('netns', 'del', `ks${m[1]}-${m[2]}`));
    quietly(() => ip('link', 'del', `k${m[1]}h${m[2]}`));
  }
}

function usedAddresses(): Set<string> {
  const used = new Set<string>();
  for (const m of ip('-o', '-4', 'addr').matchAll(/inet (198\.1[89]\.\d+\.\d+)/g)) used.add(m[1]!);
  return used;
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const removeAll = () => {
    for (const ns of [...live]) ns.remove();
  };
  process.on('exit', removeAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      removeAll();
      process.kill(process.pid, signal);
    });
}

/** Creates a network namespace with a veth pair to the root namespace and loopback up inside. */
export function createNetNs(): NetNs {
  sweepStaleNamespaces();
  hookExit();
  const n = counter++;
  const name = `ks${process.pid}-${n}`;
  const hostIf = `k${process.pid}h${n}`;
  const podIf = `k${process.pid}p${n}`;
  const used = usedAddresses();
  let block: number;
  let hostIp: string;
  do {
    block = randomInt(1, 1 << 15) * 4; // a /30 in 198.18.0.0/15
    hostIp = `198.${18 + (block >> 16)}.${(block >> 8) & 255}.${(block & 255) + 1}`;
  } while (used.has(hostIp));
  const podIp = hostIp.replace(/\d+$/, (d) => String(Number(d) + 1));
  const ns: NetNs = {
    name,
    hostIp,
    podIp,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    exec: (command, args) => ip('netns', 'exec', name, command, ...args),
    remove: () => {
      live.delete(ns);
      quietly(() => ip('netns', 'del', name));
      quietly(() => ip('link', 'del', hostIf));
    },
  };
  live.add(ns);
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf);
    ip('link', 'set', podIf, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ns.exec('ip', ['addr', 'add', `${podIp}/30`, 'dev', podIf]);
    ns.exec('ip', ['link', 'set', podIf, 'up']);
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
  } catch (err) {
    ns.remove();
    throw err;
  }
  return ns;
}
