/**
 * The embedded control plane: real etcd and kube-apiserver on free loopback ports, with their own
 * certificates, RBAC authorization, a service-account signing key, an admin kubeconfig and optional
 * extra users. Used by the integration tests, `npm run demo`, `npm run with-cluster` and benchmarks.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { resolveBinaries } from './binaries.js';
import { Pki } from './certs.js';
import { ProcessGroup, reapOrphans, TEMP_PREFIX, type ManagedProcess } from './processes.js';
import type { BinaryName } from './versions.js';

export interface UserSpec {
  name: string;
  groups?: string[];
  /** How the user authenticates: a client certificate (default) or a static bearer token. */
  auth?: 'certificate' | 'token';
}

export interface ControlPlaneOptions {
  users?: UserSpec[];
  /** Also resolve kubectl and helm (for with-cluster and the tests that shell out to them). */
  withTools?: boolean;
  /** Extra kube-apiserver flags, e.g. `--feature-gates=…`. */
  apiServerFlags?: string[];
  /**
   * The aggregation layer, for APIServices served by extension API servers (metrics-server): a
   * front-proxy CA, the client certificate kube-apiserver presents to them, the request-header flags
   * that tell them who the user is, and --enable-aggregator-routing (kube-apiserver dials the Service's
   * endpoint addresses: there is no kube-proxy here to route a ClusterIP).
   */
  aggregation?: boolean;
  progress?: (line: string) => void;
  startTimeoutMs?: number;
}

/** What another process needs to use a running control plane (written to `<dir>/cluster.json`). */
export interface ControlPlaneInfo {
  dir: string;
  server: string;
  /** etcd's client URL (plain HTTP on loopback). */
  etcd: string;
  kubeconfig: string;
  users: Record<string, string>;
  binDir: string;
  binaries: Partial<Record<BinaryName, string>>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...options, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitUntil(
  what: string,
  proc: ManagedProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running)
      throw new Error(`${what} exited (code ${proc.exitCode}) while starting:\n${proc.tail()}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs / 1000}s:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** kube-apiserver's flags of the aggregation layer, with a CA of its own for the front proxy. */
async function frontProxyFlags(pkiDir: string): Promise<string[]> {
  const frontProxy = await Pki.create(pkiDir, 'ks-installer-envtest-front-proxy-ca', 'front-proxy-ca');
  const client = await frontProxy.issue({
    file: 'front-proxy-client',
    commonName: 'front-proxy-client',
    usage: 'client',
  });
  return [
    `--requestheader-client-ca-file=${frontProxy.ca.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${client.cert}`,
    `--proxy-client-key-file=${client.key}`,
    '--enable-aggregator-routing=true',
  ];
}

function kubeconfigYaml(server: string, caFile: string, user: Record<string, string>): string {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const cred: Record<string, string> = user.token
    ? { token: user.token }
    : { 'client-certificate-data': b64(user.cert!), 'client-key-data': b64(user.key!) };
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [{ name: user.name, user: cred }],
    contexts: [{ name: user.name, context: { cluster: 'envtest', user: user.name } }],
    'current-context': user.name,
  });
}

/** How kube-apiserver (or etcd) was started, so it can be restarted alone with the same arguments. */
interface ApiServerLaunch {
  bin: string;
  args: string[];
  ready: () => Promise<boolean>;
  timeoutMs: number;
}

export class ControlPlane {
  private constructor(
    private readonly group: ProcessGroup,
    readonly info: ControlPlaneInfo,
    private readonly apiServerLaunch?: ApiServerLaunch,
    private readonly etcdLaunch?: ApiServerLaunch,
  ) {}

  get kubeconfig(): string {
    return this.info.kubeconfig;
  }

  get server(): string {
    return this.info.server;
  }

  /** The kubeconfig file of an extra user given at start. */
  userKubeconfig(name: string): string {
    const file = this.info.users[name];
    if (!file) throw new Error(`no user ${name}; pass it in ControlPlaneOptions.users`);
    return file;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const progress = options.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
    const timeout = options.startTimeoutMs ?? 90_000;
    const reaped = reapOrphans();
    if (reaped > 0) progress(`envtest: removed ${reaped} control plane(s) left behind by killed processes`);

    const needed: BinaryName[] = options.withTools
      ? ['etcd', 'kube-apiserver', 'kubectl', 'helm']
      : ['etcd', 'kube-apiserver'];
    const binaries = await resolveBinaries({ needed, progress });

    const dir = await mkdtemp(path.join(tmpdir(), TEMP_PREFIX));
    const group = new ProcessGroup(dir);
    try {
      return await ControlPlane.boot(group, binaries, options, timeout, progress);
    } catch (err) {
      await group.stop();
      throw err;
    }
  }

  private static async boot(
    group: ProcessGroup,
    binaries: Partial<Record<BinaryName, string>>,
    options: ControlPlaneOptions,
    timeout: number,
    progress: (l: string) => void,
  ): Promise<ControlPlane> {
    const started = Date.now();
    const dir = group.dir;
    const pkiDir = path.join(dir, 'pki');
    const binDir = path.join(dir, 'bin');
    await Promise.all([mkdir(pkiDir), mkdir(binDir), mkdir(path.join(dir, 'users'))]);
    for (const [name, file] of Object.entries(binaries)) await symlink(file, path.join(binDir, name));

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const pki = await Pki.create(pkiDir);
    const users = options.users ?? [];
    const [serving, admin, sa, ...userCerts] = await Promise.all([
      pki.issue({
        file: 'apiserver',
        commonName: 'kube-apiserver',
        usage: 'server',
        ips: ['127.0.0.1'],
        // The in-cluster names too: a ServiceMonitor of the API server verifies `serverName: kubernetes`.
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      }),
      pki.issue({
        file: 'admin',
        commonName: 'envtest-admin',
        organizations: ['system:masters'],
        usage: 'client',
      }),
      pki.serviceAccountKey(),
      ...users
        .filter((u) => u.auth !== 'token')
        .map((u) =>
          pki.issue({ file: `user-${u.name}`, commonName: u.name, organizations: u.groups, usage: 'client' }),
        ),
    ]);
    const aggregationFlags = options.aggregation ? await frontProxyFlags(pkiDir) : [];
    const tokenUsers = users
      .filter((u) => u.auth === 'token')
      .map((u) => ({ ...u, token: randomBytes(24).toString('hex') }));
    const tokenFile = path.join(pkiDir, 'tokens.csv');
    await writeFile(
      tokenFile,
      tokenUsers.map((u) => `${u.token},${u.name},${u.name},"${(u.groups ?? []).join(',')}"`).join('\n') +
        '\n',
      { mode: 0o600 },
    );

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcdArgs = [
      '--name=envtest',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=envtest=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ];
    const etcd = group.start('etcd', binaries.etcd!, etcdArgs);
    const etcdReady = async () => (await get(`${etcdUrl}/health`)).status === 200;
    await waitUntil('etcd', etcd, etcdReady, timeout);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${sa.publicKey}`,
      `--service-account-signing-key-file=${sa.privateKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--profiling=false',
      ...aggregationFlags,
      ...(options.apiServerFlags ?? []),
    ];
    const apiserver = group.start('kube-apiserver', binaries['kube-apiserver']!, apiServerArgs);
    const tls = {
      ca: readFileSync(pki.ca.cert),
      cert: readFileSync(admin.cert),
      key: readFileSync(admin.key),
    };
    const apiServerReady = async () => (await get(`${server}/readyz`, tls)).status === 200;
    await waitUntil('kube-apiserver', apiserver, apiServerReady, timeout);

    const kubeconfig = path.join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, pki.ca.cert, { name: 'envtest-admin', ...admin }), {
      mode: 0o600,
    });
    const userFiles: Record<string, string> = {};
    let certIndex = 0;
    for (const u of users) {
      const file = path.join(dir, 'users', `${u.name}.kubeconfig`);
      const cred =
        u.auth === 'token'
          ? { token: tokenUsers.find((t) => t.name === u.name)!.token }
          : userCerts[certIndex++]!;
      await writeFile(file, kubeconfigYaml(server, pki.ca.cert, { name: u.name, ...cred }), { mode: 0o600 });
      userFiles[u.name] = file;
    }

    const info: ControlPlaneInfo = {
      dir,
      server,
      etcd: etcdUrl,
      kubeconfig,
      users: userFiles,
      binDir,
      binaries,
    };
    await writeFile(path.join(dir, 'cluster.json'), JSON.stringify(info, null, 2));
    progress(
      `envtest: control plane up at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
        `(etcd pid ${etcd.pid}, kube-apiserver pid ${apiserver.pid})`,
    );
    return new ControlPlane(
      group,
      info,
      { bin: binaries['kube-apiserver']!, args: apiServerArgs, ready: apiServerReady, timeoutMs: timeout },
      { bin: binaries.etcd!, args: etcdArgs, ready: etcdReady, timeoutMs: timeout },
    );
  }

  /**
   * Stops kube-apiserver alone (SIGKILL by default: a crash; SIGTERM: a graceful shutdown); etcd and
   * its data stay. Resolves once the process has exited.
   */
  async stopApiServer(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const running = this.group.processes.filter((p) => p.name === 'kube-apiserver' && p.running);
    for (const p of running) {
      if (signal === 'SIGKILL') {
        p.killNow();
        await p.stop();
      } else await p.stop();
    }
  }

  /** Starts kube-apiserver again with the arguments and etcd of the first start; resolves once it is ready. */
  async startApiServer(): Promise<void> {
    const launch = this.apiServerLaunch;
    if (!launch) throw new Error('this control plane cannot restart kube-apiserver');
    const p = this.group.start('kube-apiserver', launch.bin, launch.args);
    await waitUntil('kube-apiserver (restarted)', p, launch.ready, launch.timeoutMs);
  }

  /** Restarts kube-apiserver alone: stopped, down for `downMs`, started with the same arguments and etcd. */
  async restartApiServer(options: { downMs?: number; signal?: 'SIGKILL' | 'SIGTERM' } = {}): Promise<void> {
    await this.stopApiServer(options.signal);
    await new Promise((r) => setTimeout(r, options.downMs ?? 0));
    await this.startApiServer();
  }

  /**
   * Restarts etcd alone (SIGKILL: a crash), down for `downMs`, with the same arguments and data
   * directory; kube-apiserver keeps running and reconnects. Resolves once etcd answers /health.
   */
  async restartEtcd(options: { downMs?: number } = {}): Promise<void> {
    const launch = this.etcdLaunch;
    if (!launch) throw new Error('this control plane cannot restart etcd');
    for (const p of this.group.processes.filter((x) => x.name === 'etcd' && x.running)) {
      p.killNow();
      await p.stop();
    }
    await new Promise((r) => setTimeout(r, options.downMs ?? 0));
    const p = this.group.start('etcd', launch.bin, launch.args);
    await waitUntil('etcd (restarted)', p, launch.ready, launch.timeoutMs);
  }

  /** Environment for a child process that should talk to this control plane. */
  childEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return {
      ...base,
      KUBECONFIG: this.kubeconfig,
      PATH: `${this.info.binDir}${path.delimiter}${base.PATH ?? ''}`,
    };
  }

  async stop(): Promise<void> {
    await this.group.stop();
  }
}
