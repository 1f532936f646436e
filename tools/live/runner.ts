/**
 * The pod runner: each container of a Pod as a local process. The binary of its image (images.ts)
 * runs with the container's own arguments and environment ($(VAR) expanded, downward API and
 * secretKeyRef/configMapKeyRef values), init containers first, restarted with backoff when it exits
 * (restartPolicy Always). It runs in a private mount namespace (`unshare --mount`, then chroot into a
 * tmpfs root that holds only the Pod's volume mounts, /proc, /sys, /dev and a few files of /etc) inside
 * the Pod's network namespace (network.ts). A Pod with an image that has no local build stays Pending
 * with reason `NoLocalBuild`. Each process's output goes to `<dir>/logs/<pod>_<container>.log`.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_TOOLS, imageName } from './images.js';
import {
  expandVars,
  sleep,
  type Container,
  type Kubelet,
  type LivePod,
  type Obj,
  type RunningContainer,
} from './model.js';
import { hostsFile, resolvConf } from './dns.js';
import { podNetwork } from './network.js';
import { volumeSource, writeVolumes } from './volumes.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The TCP ports with a listener in the network namespace of pid (IPv4 and IPv6). */
export function listeningPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.add(parseInt(cols[1]!.split(':').pop()!, 16));
    }
  }
  return ports;
}

/** Resident memory (bytes) and CPU time (seconds) of a process, from /proc. */
export function processUsage(pid: number): { rss: number; cpu: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rss, cpu: ticks / 100 };
  } catch {
    return undefined;
  }
}

const ETC_FILES = ['hosts', 'nsswitch.conf', 'resolv.conf', 'passwd', 'group', 'localtime', 'ssl'];

export async function startPod(k: Kubelet, p: Obj): Promise<LivePod> {
  const namespace = p.metadata.namespace!;
  const spec = p.spec;
  const node = k.nodes.get(spec.nodeName);
  const all: Container[] = [...(spec.initContainers ?? []), ...spec.containers];
  const dir = path.join(k.o.dir, 'pods', `${namespace}_${p.metadata.name}`);
  mkdirSync(dir, { recursive: true });
  const live: LivePod = {
    namespace,
    name: p.metadata.name,
    uid: p.metadata.uid!,
    hash: p.metadata.annotations?.['live.ks-installer.io/template-hash'] ?? '',
    node: spec.nodeName,
    ip: '',
    rootNetwork: false,
    hostNetwork: !!spec.hostNetwork,
    dir,
    pod: p,
    containers: [],
    ready: false,
    volumeDigest: new Map(),
  };
  const missing = all.filter((c) => !k.tools.get(IMAGE_TOOLS[imageName(c.image)] ?? ''));
  if (missing.length > 0 || !node) {
    live.pending = node
      ? `no local build of image ${missing.map((c) => c.image).join(', ')} (the process kubelet runs only the stack's own images)`
      : `node ${spec.nodeName} unknown`;
    k.log(`pod ${namespace}/${live.name}: Pending: ${live.pending}`);
    return live;
  }
  podNetwork(k, live, node, all);
  await podDnsFiles(k, live);
  k.log(
    `pod ${namespace}/${live.name} on ${live.node} at ${live.ip}${live.rootNetwork ? ' (root network namespace)' : ''}`,
  );
  await writeVolumes(k, live);
  void runContainers(k, live, spec.initContainers ?? [], spec.containers);
  return live;
}

export async function runContainers(
  k: Kubelet,
  live: LivePod,
  init: Container[],
  main: Container[],
): Promise<void> {
  for (const c of init) {
    const rc: RunningContainer = {
      name: c.name,
      tool: IMAGE_TOOLS[imageName(c.image)]!,
      restarts: 0,
      startedAt: '',
      stopped: false,
    };
    live.containers.push(rc);
    for (;;) {
      if (rc.stopped || k.stopped) return;
      const code = await new Promise<number | null>((resolve) => {
        const child = launch(k, live, c, rc);
        child.once('exit', (code) => resolve(code));
      });
      if (code === 0) break;
      rc.restarts++;
      k.log(`pod ${live.namespace}/${live.name}: init container ${c.name} exited ${code}, retrying`);
      await sleep(Math.min(2000 * rc.restarts, 10_000));
    }
  }
  for (const c of main) {
    const rc: RunningContainer = {
      name: c.name,
      tool: IMAGE_TOOLS[imageName(c.image)]!,
      restarts: 0,
      startedAt: '',
      stopped: false,
    };
    live.containers.push(rc);
    const keep = () => {
      if (rc.stopped || k.stopped) return;
      const child = launch(k, live, c, rc);
      child.once('exit', (code, signal) => {
        if (rc.stopped || k.stopped) return;
        rc.restarts++;
        k.log(
          `pod ${live.namespace}/${live.name}: ${c.name} exited (${code ?? signal}), restart ${rc.restarts}`,
        );
        setTimeout(keep, Math.min(1000 * 2 ** Math.min(rc.restarts, 5), 30_000));
      });
    };
    keep();
  }
}

export function containerEnv(k: Kubelet, live: LivePod, c: Container): Record<string, string> {
  const p = live.pod;
  const env: Record<string, string> = {};
  const field = (f: string): string =>
    ({
      'metadata.name': p.metadata.name,
      'metadata.namespace': p.metadata.namespace!,
      'metadata.uid': p.metadata.uid!,
      'spec.nodeName': live.node,
      'spec.serviceAccountName': p.spec.serviceAccountName ?? 'default',
      'status.podIP': live.ip,
      'status.hostIP': k.nodes.get(live.node)!.ip,
    })[f] ?? '';
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (e.valueFrom?.fieldRef) env[e.name] = field(e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
      const ref = (e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef)!;
      const file = path.join(
        live.dir,
        'env',
        `${e.valueFrom.secretKeyRef ? 'secret' : 'configmap'}-${ref.name}-${ref.key}`,
      );
      if (existsSync(file)) env[e.name] = readFileSync(file, 'utf8');
    }
  }
  return env;
}

/** Arguments the root-namespace Pod (Prometheus) needs moved from `:port`/localhost onto its address. */
export function rewriteArgs(k: Kubelet, live: LivePod, tool: string, args: string[]): string[] {
  if (!live.rootNetwork) return args;
  const onIp = (a: string) =>
    a.replace(/=(?:\[?(?:0\.0\.0\.0|::|localhost|127\.0\.0\.1)\]?)?:(\d+)/, `=${live.ip}:$1`);
  const out = args.map((a) => {
    if (/^--?(web\.)?listen-address=|^--?(http|grpc)-address=/.test(a)) return onIp(a);
    if (/^--?reload-url=/.test(a)) return a.replace(/\/\/(localhost|127\.0\.0\.1)(?=:)/, `//${live.ip}`);
    // The Thanos sidecar reads its Prometheus, which listens on the Pod's address here.
    if (/^--?prometheus\.url=/.test(a)) return a.replace(/\/\/(localhost|127\.0\.0\.1)(?=:)/, `//${live.ip}`);
    return a;
  });
  if (tool === 'prometheus' && !out.some((a) => /^--?web\.listen-address=/.test(a)))
    out.push(`--web.listen-address=${live.ip}:9090`);
  // thanos listens on 0.0.0.0 by default.
  if (tool === 'thanos' && out[0] === 'rule') {
    if (!out.some((a) => /^--?http-address=/.test(a))) out.push(`--http-address=${live.ip}:10902`);
    if (!out.some((a) => /^--?grpc-address=/.test(a))) out.push(`--grpc-address=${live.ip}:10901`);
  }
  return out;
}

export function launch(k: Kubelet, live: LivePod, c: Container, rc: RunningContainer): ChildProcess {
  const bin = k.tools.get(rc.tool)!;
  const root = path.join(live.dir, 'root', c.name);
  const tmp = path.join(live.dir, 'tmp', c.name);
  mkdirSync(root, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const env = containerEnv(k, live, c);
  const args = rewriteArgs(
    k,
    live,
    rc.tool,
    (c.args ?? []).map((a) => expandVars(a, env)),
  );
  const lines = [
    'set -e',
    `R=${shellQuote(root)}`,
    'mount -t tmpfs -o mode=755 ks-live "$R"',
    'mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp" "$R/ks"',
    'mount --rbind /proc "$R/proc"',
    'mount --rbind /sys "$R/sys"',
    'mount --rbind /dev "$R/dev"',
    `mount --bind ${shellQuote(tmp)} "$R/tmp"`,
    `touch "$R/ks/${rc.tool}"`,
    `mount --bind ${shellQuote(bin)} "$R/ks/${rc.tool}"`,
  ];
  for (const f of ETC_FILES) {
    const dst = `/etc/${f}`;
    // The Pod's own resolv.conf and hosts (podDnsFiles) over this host's.
    const own = path.join(live.dir, 'etc', f);
    const src = existsSync(own) ? own : dst;
    if (!existsSync(src)) continue;
    const isDir = statSync(src).isDirectory();
    lines.push(
      isDir ? `mkdir -p "$R${dst}"` : `touch "$R${dst}"`,
      `mount --bind ${shellQuote(src)} "$R${dst}"`,
    );
  }
  for (const m of c.volumeMounts ?? []) {
    let src = volumeSource(k, live, m.name);
    if (!src) continue;
    if (m.subPath) src = path.join(src, m.subPath);
    const dst = `"$R"${shellQuote(m.mountPath)}`;
    const isDir = !existsSync(src) || statSync(src).isDirectory();
    if (isDir) {
      mkdirSync(src, { recursive: true });
      lines.push(`mkdir -p ${dst}`);
    } else lines.push(`mkdir -p "$(dirname ${dst})"`, `[ -e ${dst} ] || touch ${dst}`);
    lines.push(`mount --rbind ${shellQuote(src)} ${dst}`);
  }
  for (const d of k.o.sharedDirs ?? []) {
    const dst = `"$R"${shellQuote(d.mountPath)}`;
    lines.push(`mkdir -p ${dst}`, `mount --bind ${shellQuote(d.hostPath)} ${dst}`);
  }
  lines.push(`exec chroot "$R" /ks/${rc.tool} "$@"`);
  const script = path.join(live.dir, `run-${c.name}.sh`);
  writeFileSync(script, `${lines.join('\n')}\n`);
  const base = ['unshare', '--mount', '--propagation', 'private', 'sh', script, ...args];
  const cmd = live.rootNetwork ? base : ['ip', 'netns', 'exec', live.ns!.name, ...base];
  const childEnv: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/tmp',
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: k.apiPort,
    ...env,
  };
  const child = k.spawnLogged(`${live.namespace}_${live.name}_${c.name}`, cmd[0]!, cmd.slice(1), childEnv);
  rc.child = child;
  rc.pid = child.pid;
  rc.startedAt = new Date().toISOString();
  return child;
}

export async function stopPod(k: Kubelet, live: LivePod): Promise<void> {
  const children = live.containers.map((c) => {
    c.stopped = true;
    return c.child;
  });
  await Promise.all(
    children.map(async (child) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }),
  );
  if (live.ns && !live.hostNetwork) {
    k.dns.forget(live.ns.hostIp);
    live.ns.remove();
  }
}

/**
 * The Pod's /etc/resolv.conf (the stack's DNS, answering at the root end of the Pod's veth pair, or of
 * its Node's for a hostNetwork Pod) and, unless it shares its Node's network, its /etc/hosts, as a
 * kubelet writes them (dns.ts).
 */
async function podDnsFiles(k: Kubelet, live: LivePod): Promise<void> {
  const etc = path.join(live.dir, 'etc');
  mkdirSync(etc, { recursive: true });
  await k.dns
    .listen(live.ns!.hostIp)
    .catch((err: unknown) =>
      k.log(`pod ${live.namespace}/${live.name}: no DNS at ${live.ns!.hostIp}:53: ${(err as Error).message}`),
    );
  writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(live.ns!.hostIp, live.namespace));
  if (!live.hostNetwork)
    writeFileSync(
      path.join(etc, 'hosts'),
      hostsFile(live.ip, live.pod.spec.hostname ?? live.name, live.pod.spec.subdomain, live.namespace),
    );
}
