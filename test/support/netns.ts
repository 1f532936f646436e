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
 *
 * `createNetwork(members)`: namespaces that reach each other as nodes of one network do (a kubelet's
 * address dialled from another node), without this host forwarding packets (ip_forward stays as it
 * is): a bridge in a namespace of its own, joined by the root namespace and by each member with one
 * address of a /28 of the same range.
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

export interface Network {
  /** The root namespace's address on the network. */
  hostIp: string;
  /** One namespace per member, in order; `hostIp` of each is the root namespace's address. */
  members: NetNs[];
  remove(): void;
}

/** A switched network of `count` member namespaces and the root namespace, on a free /28 of 198.18.0.0/15. */
export function createNetwork(count: number): Network {
  if (count < 1 || count > 13) throw new Error('a network has 1 to 13 members');
  sweepStaleNamespaces();
  hookExit();
  const used = [...usedAddresses()].map(toNumber);
  const base = toNumber('198.18.0.0');
  let start: number;
  do {
    start = base + randomInt(0, 1 << 13) * 16; // a /28 in 198.18.0.0/15
  } while (used.some((a) => a >= start && a < start + 16));
  const address = (i: number) => toAddress(start + i);
  // The bridge's namespace: named like the others, so a sweep or remove() of it also takes the root
  // end of its link (`k<pid>h<n>`); deleting it deletes every veth on the bridge, so each pair.
  const n = counter++;
  const lan = `ks${process.pid}-${n}`;
  const hostIf = `k${process.pid}h${n}`;
  const members: NetNs[] = [];
  const lanNs: NetNs = {
    name: lan,
    hostIp: address(1),
    podIp: address(1),
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', lan, command, ...args], options),
    exec: (command, args) => ip('netns', 'exec', lan, command, ...args),
    remove: () => {
      live.delete(lanNs);
      quietly(() => ip('netns', 'del', lan));
      quietly(() => ip('link', 'del', hostIf));
    },
  };
  const network: Network = {
    hostIp: address(1),
    members,
    remove: () => {
      for (const m of members) m.remove();
      lanNs.remove();
    },
  };
  live.add(lanNs);
  try {
    ip('netns', 'add', lan);
    ip('-n', lan, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', lan, 'link', 'set', 'br0', 'up');
    const port = (name: string) => {
      ip('-n', lan, 'link', 'set', name, 'master', 'br0');
      ip('-n', lan, 'link', 'set', name, 'up');
    };
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `b${n}r`, 'netns', lan);
    port(`b${n}r`);
    ip('addr', 'add', `${address(1)}/28`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    for (let i = 0; i < count; i += 1) {
      const m = counter++;
      const name = `ks${process.pid}-${m}`;
      const podIp = address(i + 2);
      const member: NetNs = {
        name,
        hostIp: address(1),
        podIp,
        spawn: (command, args, options = {}) =>
          spawn('ip', ['netns', 'exec', name, command, ...args], options),
        exec: (command, args) => ip('netns', 'exec', name, command, ...args),
        remove: () => {
          live.delete(member);
          quietly(() => ip('netns', 'del', name));
        },
      };
      live.add(member);
      members.push(member);
      ip('netns', 'add', name);
      ip('-n', lan, 'link', 'add', `b${m}p`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
      port(`b${m}p`);
      member.exec('ip', ['addr', 'add', `${podIp}/28`, 'dev', 'eth0']);
      member.exec('ip', ['link', 'set', 'eth0', 'up']);
      member.exec('ip', ['link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    network.remove();
    throw err;
  }
  return network;
}

function toNumber(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
