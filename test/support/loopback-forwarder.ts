/**
 * Reaching kube-apiserver, which listens on loopback in this (root) network namespace, from inside a
 * test's network namespace, as a pod reaches it through the `kubernetes` Service: unix sockets cross
 * network namespaces (they are files), so
 * - `socketToTcp(socket, port)` (in this process) accepts on a unix socket and connects each client to
 *   127.0.0.1:`port` here;
 * - this file, run inside the namespace (`node --import tsx test/support/loopback-forwarder.ts --listen
 *   127.0.0.1:PORT --socket PATH`), accepts on the namespace's own loopback and connects each client to
 *   that socket. It prints `listening 127.0.0.1:PORT` once it accepts.
 * Bytes are copied as they are (TLS passes through untouched); all traffic stays on loopback and sockets.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

/** A unix-socket server at `socket` forwarding each connection to 127.0.0.1:`port`. */
export function socketToTcp(socket: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((client) => pipeBoth(client, net.connect(port, '127.0.0.1')));
    server.once('error', reject);
    server.listen(socket, () => resolve(server));
  });
}

function main(): void {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, socket: { type: 'string' } } });
  const [host, port] = (values.listen ?? '').split(':');
  if (!host || !port || !values.socket) throw new Error('usage: --listen 127.0.0.1:PORT --socket PATH');
  const socket = values.socket;
  const server = net.createServer((client) => pipeBoth(client, net.connect(socket)));
  server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1]?.endsWith('loopback-forwarder.ts')) main();
