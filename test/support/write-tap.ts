/**
 * A loopback HTTPS proxy between a client (the operator) and kube-apiserver that sees each request:
 * it terminates TLS with a throw-away CA of its own, forwards every request to the API server with the
 * credentials of a kubeconfig (the operator's own, so the API server sees the same user), and counts
 * the writes: POST, PUT, PATCH and DELETE that are not dry runs. With `killAfter(k, kill)`, once the
 * k-th write has been answered by the API server (the write landed), `kill` runs before that answer
 * is passed on, and from then on nothing is forwarded: the client dies knowing nothing of its last
 * write, the way a SIGKILL between a request and its answer leaves it. Watches stream through.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type net from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { createAuthority, issueCertificate } from '../../src/pki/index.js';

export interface TapWrite {
  method: string;
  /** Path and query, as sent. */
  path: string;
}

export interface WriteTap {
  port: number;
  /** Writes answered so far (since the last reset), in the order their answers came. */
  writes: TapWrite[];
  /** Arms the switch: after the k-th write (1-based, counted from now) is answered, `kill` runs. */
  killAfter(k: number, kill: () => void): void;
  /** Forgets the writes and any armed switch, and forwards again. */
  reset(): void;
  /** A copy of `kubeconfig` (a file) whose server is this proxy, trusting its CA, written to `file`. */
  writeKubeconfig(file: string): Promise<string>;
  close(): Promise<void>;
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string } }[];
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a request stores something: a write method, not a dry run. */
export function isWrite(method: string, path: string): boolean {
  if (!WRITE_METHODS.has(method)) return false;
  const query = new URL(path, 'https://x').searchParams;
  return !query.has('dryRun');
}

export async function startWriteTap(kubeconfigFile: string): Promise<WriteTap> {
  const config = yaml.load(await readFile(kubeconfigFile, 'utf8')) as Kubeconfig;
  const cluster = config.clusters[0]!.cluster;
  const user = config.users[0]!.user;
  const target = new URL(cluster.server);
  if (!['127.0.0.1', '[::1]', 'localhost'].includes(target.hostname))
    throw new Error(`the write tap forwards to loopback only, not ${target.hostname}`);
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
  const agent = new https.Agent({
    keepAlive: true,
    ca: b64(cluster['certificate-authority-data']),
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
  });

  const ca = await createAuthority('ks-installer-test-write-tap', 1);
  const serving = await issueCertificate(ca, {
    commonName: 'write-tap',
    usage: 'server',
    ips: ['127.0.0.1'],
    days: 1,
  });

  let writes: TapWrite[] = [];
  let armed: { k: number; kill: () => void } | undefined;
  let killed = false;
  const sockets = new Set<net.Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (killed) {
      req.socket.destroy();
      return;
    }
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    if (user.token) headers.authorization = `Bearer ${user.token}`;
    const upstream = https.request(
      { host: target.hostname, port: target.port, method, path, headers, agent },
      (answer) => {
        if (killed) {
          answer.destroy();
          req.socket.destroy();
          return;
        }
        if (isWrite(method, path)) {
          writes.push({ method, path });
          if (armed && writes.length >= armed.k) {
            killed = true;
            armed.kill();
            answer.destroy();
            for (const s of sockets) s.destroy();
            return;
          }
        }
        const out = { ...answer.headers };
        delete out.connection;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };

  const server = https.createServer({ cert: serving.cert, key: serving.key }, handle);
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get writes() {
      return writes;
    },
    killAfter(k, kill) {
      armed = { k, kill };
    },
    reset() {
      writes = [];
      armed = undefined;
      killed = false;
    },
    async writeKubeconfig(file) {
      const copy = structuredClone(config);
      for (const c of copy.clusters) {
        c.cluster.server = `https://127.0.0.1:${port}`;
        c.cluster['certificate-authority-data'] = Buffer.from(ca.cert).toString('base64');
      }
      await writeFile(file, yaml.dump(copy), { mode: 0o600 });
      return file;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
