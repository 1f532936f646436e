/**
 * Pod DNS: the names a Pod of the live stack looks up, answered inside the stack, so that no lookup
 * ever leaves this machine (this host's own resolver is not on loopback) and the names a real cluster's
 * DNS gives resolve here too. A kubelet writes each Pod's /etc/resolv.conf (the cluster DNS server, the
 * search list `<namespace>.svc.cluster.local svc.cluster.local cluster.local`, `ndots:5`) and its
 * /etc/hosts (localhost and the Pod's own name); the process kubelet does the same, with, as the
 * nameserver, the root end of the Pod's veth pair, where this module answers on UDP port 53.
 *
 * What it answers, from the Endpoints of the cluster (what CoreDNS's kubernetes plugin answers with):
 * - A `<service>.<namespace>.svc[.cluster.local]`: the ready addresses of the Service's Endpoints (no
 *   kube-proxy runs here, so a ClusterIP Service's name gives its Pods' addresses, as a headless one does);
 * - A `<pod>.<service>.<namespace>.svc[.cluster.local]`: the address of that Pod among them (StatefulSet
 *   Pods' stable names, e.g. Alertmanager's peers);
 * - SRV `_<port>._<proto>.<service>.<namespace>.svc[.cluster.local]`: one record per ready address, its
 *   target the Pod's stable name (thanos' `dnssrv+` discovery of Alertmanager).
 * Every other name gets NXDOMAIN: nothing is forwarded.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { KubeClient } from '../../src/kube/client.js';

export const CLUSTER_DOMAIN = 'cluster.local';

const TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;
const CACHE_MS = 2000;

interface Question {
  id: number;
  flags: number;
  name: string;
  type: number;
  klass: number;
  /** The question section as it came (echoed in the answer). */
  raw: Buffer;
}

interface Endpoints {
  subsets?: {
    addresses?: { ip: string; hostname?: string; targetRef?: { name: string } }[];
    ports?: { name?: string; port: number; protocol?: string }[];
  }[];
}

/** Parses the first question of a DNS query; undefined if malformed. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return undefined;
    const len = msg[i]!;
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  i += 1;
  if (i + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(i),
    klass: msg.readUInt16BE(i + 2),
    raw: msg.subarray(12, i + 4),
  };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])),
    Buffer.from([0]),
  ]);
}

export type Answer =
  { type: 'A'; name: string; ip: string } | { type: 'SRV'; name: string; port: number; target: string };

/** A DNS response: rcode 0 (with answers, possibly none) or 3 (NXDOMAIN). */
export function encodeResponse(
  q: Question,
  rcode: 0 | 3,
  answers: Answer[],
  additional: Answer[] = [],
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, opcode 0, AA, RD as asked; RA clear (nothing recursive here).
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x0100) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(additional.length, 10);
  const rr = (a: Answer) => {
    const name = encodeName(a.name);
    let data: Buffer;
    if (a.type === 'A') data = Buffer.from(a.ip.split('.').map(Number));
    else {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(0, 0); // priority
      fixed.writeUInt16BE(100, 2); // weight
      fixed.writeUInt16BE(a.port, 4);
      data = Buffer.concat([fixed, encodeName(a.target)]);
    }
    const meta = Buffer.alloc(10);
    meta.writeUInt16BE(a.type === 'A' ? TYPE.A : TYPE.SRV, 0);
    meta.writeUInt16BE(1, 2); // IN
    meta.writeUInt32BE(5, 4); // TTL, as CoreDNS's kubernetes plugin's default
    meta.writeUInt16BE(data.length, 8);
    return Buffer.concat([name, meta, data]);
  };
  return Buffer.concat([header, q.raw, ...answers.map(rr), ...additional.map(rr)]);
}

export class PodDns {
  private readonly sockets = new Map<string, Socket>();
  private readonly cache = new Map<string, { at: number; value: Endpoints | undefined }>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: (line: string) => void,
  ) {}

  /** Answers on UDP <address>:<port> (53, what resolv.conf implies; once per address). */
  async listen(address: string, port = 53): Promise<void> {
    if (this.sockets.has(address)) return;
    const socket = createSocket('udp4');
    this.sockets.set(address, socket);
    socket.on('message', (msg, from) => {
      void this.answer(msg).then(
        (out) => out && socket.send(out, from.port, from.address),
        (err: unknown) => this.log(`dns: ${(err as Error).message}`),
      );
    });
    socket.on('error', (err) => this.log(`dns on ${address}: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
  }

  /** Stops answering on an address (its Pod is gone). */
  forget(address: string): void {
    this.sockets.get(address)?.close();
    this.sockets.delete(address);
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private async endpoints(namespace: string, service: string): Promise<Endpoints | undefined> {
    const key = `${namespace}/${service}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const value = await this.client.getOrUndefined<Endpoints & { metadata: { name: string } }>(
      `/api/v1/namespaces/${namespace}/endpoints/${service}`,
    );
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  /** The response to a query, or undefined when it is not one. */
  async answer(msg: Buffer): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const nx = () => encodeResponse(q, 3, []);
    const name = q.name.replace(/\.$/, '');
    const short = name.endsWith(`.svc.${CLUSTER_DOMAIN}`) ? name.slice(0, -CLUSTER_DOMAIN.length - 1) : name;
    const labels = short.split('.');
    if (labels.at(-1) !== 'svc' || q.klass !== 1) return nx();
    const fqdn = (...l: string[]) => `${l.join('.')}.svc.${CLUSTER_DOMAIN}`;
    if (labels.length === 5 && labels[0]!.startsWith('_') && labels[1]!.startsWith('_')) {
      // _port._proto.service.namespace.svc
      const [port, proto, service, namespace] = labels as [string, string, string, string];
      const ep = await this.endpoints(namespace, service);
      if (!ep) return nx();
      const answers: Answer[] = [];
      const extra: Answer[] = [];
      for (const s of ep.subsets ?? []) {
        const p = (s.ports ?? []).find(
          (x) => x.name === port.slice(1) && (x.protocol ?? 'TCP').toLowerCase() === proto.slice(1),
        );
        if (!p) continue;
        for (const a of s.addresses ?? []) {
          const host = a.hostname ?? a.targetRef?.name ?? a.ip.replace(/\./g, '-');
          const target = fqdn(host, service, namespace);
          answers.push({ type: 'SRV', name, port: p.port, target });
          extra.push({ type: 'A', name: target, ip: a.ip });
        }
      }
      if (answers.length === 0) return nx();
      return q.type === TYPE.SRV ? encodeResponse(q, 0, answers, extra) : encodeResponse(q, 0, []);
    }
    let ips: string[] | undefined;
    if (labels.length === 3) {
      const ep = await this.endpoints(labels[1]!, labels[0]!);
      ips = ep ? (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)) : undefined;
    } else if (labels.length === 4) {
      const ep = await this.endpoints(labels[2]!, labels[1]!);
      const hit = (ep?.subsets ?? [])
        .flatMap((s) => s.addresses ?? [])
        .filter((a) => (a.hostname ?? a.targetRef?.name) === labels[0]);
      ips = hit.length ? hit.map((a) => a.ip) : undefined;
    }
    if (!ips) return nx();
    if (q.type !== TYPE.A) return encodeResponse(q, 0, []);
    return encodeResponse(
      q,
      0,
      [...new Set(ips)].map((ip) => ({ type: 'A' as const, name, ip })),
    );
  }
}

/** The /etc/resolv.conf a kubelet writes for a Pod with dnsPolicy ClusterFirst. */
export function resolvConf(nameserver: string, namespace: string): string {
  return [
    `nameserver ${nameserver}`,
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    'options ndots:5',
    '',
  ].join('\n');
}

/** The /etc/hosts a kubelet writes for a Pod: localhost, and the Pod's own names at its address. */
export function hostsFile(
  ip: string,
  hostname: string,
  subdomain: string | undefined,
  namespace: string,
): string {
  const names = subdomain
    ? [`${hostname}.${subdomain}.${namespace}.svc.${CLUSTER_DOMAIN}`, hostname]
    : [hostname];
  return [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${ip}\t${names.join('\t')}`,
    '',
  ].join('\n');
}
