/**
 * A fault-injecting TCP proxy for tests, on loopback only: it sits between a client and kube-apiserver
 * (TLS passes through untouched, so certificates and tokens work as they are) and adds what real
 * networks do to an operator's requests:
 * - latency: every chunk the client sends reaches the server `latencyMs` later (order kept);
 * - resets: each chunk from the client, with probability `resetShare`, resets the connection instead
 *   (both sides destroyed: a request in flight gets no answer, a handshake fails);
 * - cuts: each connection lives a random `lifetimeMs` ([min, max]) and is then closed, which cuts
 *   watches mid-stream and kept-alive connections between requests.
 * Randomness comes from a seeded generator, so a failing run can be replayed with its seed.
 */
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import yaml from 'js-yaml';

export interface Faults {
  latencyMs: number;
  resetShare: number;
  /** How long a connection lives before it is closed (random between the two); undefined: forever. */
  lifetimeMs?: [number, number];
}

export interface FaultStats {
  connections: number;
  chunks: number;
  resets: number;
  cuts: number;
}

export interface FaultProxy {
  port: number;
  stats: FaultStats;
  /** Changes the faults of the chunks and connections to come. */
  set(faults: Faults): void;
  /** A copy of `kubeconfig` (a file) whose cluster server is this proxy, written to `file`. */
  writeKubeconfig(kubeconfig: string, file: string): Promise<string>;
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(
  target: { host: string; port: number },
  initial: Faults,
  seed = 1,
): Promise<FaultProxy> {
  if (!['127.0.0.1', '::1', 'localhost'].includes(target.host))
    throw new Error(`the fault proxy forwards to loopback only, not ${target.host}`);
  let faults = initial;
  const random = seededRandom(seed);
  const stats: FaultStats = { connections: 0, chunks: 0, resets: 0, cuts: 0 };
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(target.port, target.host);
    open.add(client).add(upstream);
    let closed = false;
    const close = (reset: boolean) => {
      if (closed) return;
      closed = true;
      clearTimeout(lifetime);
      if (reset) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      } else {
        client.destroy();
        upstream.destroy();
      }
      open.delete(client);
      open.delete(upstream);
    };
    const [min, max] = faults.lifetimeMs ?? [0, 0];
    const lifetime = faults.lifetimeMs
      ? setTimeout(
          () => {
            stats.cuts++;
            close(false);
          },
          min + random() * (max - min),
        )
      : undefined;
    client.on('data', (chunk: Buffer) => {
      stats.chunks++;
      if (random() < faults.resetShare) {
        stats.resets++;
        close(true);
        return;
      }
      const send = () => {
        if (!closed) upstream.write(chunk);
      };
      if (faults.latencyMs > 0) setTimeout(send, faults.latencyMs);
      else send();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!closed) client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => close(false));
      s.on('close', () => close(false));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    stats,
    set: (f) => (faults = f),
    async writeKubeconfig(kubeconfig, file) {
      const { readFile } = await import('node:fs/promises');
      const config = yaml.load(await readFile(kubeconfig, 'utf8')) as {
        clusters: { cluster: { server: string } }[];
      };
      for (const c of config.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
      await writeFile(file, yaml.dump(config), { mode: 0o600 });
      return file;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
