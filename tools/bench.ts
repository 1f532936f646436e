/**
 * `npm run bench`: measures the operator on the embedded control plane and prints figures (no
 * thresholds: numbers for people to compare). First install, a no-op run, a one-field edit, and the
 * operator process's peak memory, over a few repetitions.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ControlPlane } from './envtest/control-plane.js';
import { projectRoot } from '../src/installer/manifests.js';
import { collectionPath, objectPath, type ClusterConfiguration } from '../src/api/cluster-configuration.js';
import { applyObjects } from '../src/kube/apply.js';
import { CONTENT_TYPE, KubeClient, type KubeObject } from '../src/kube/client.js';
import { RestMapper } from '../src/kube/discovery.js';

const root = projectRoot();
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
/** BENCH_ENTRY=dist measures the compiled program (what the image runs; `npm run build` first). */
const ENTRY =
  process.env.BENCH_ENTRY === 'dist'
    ? [path.join(root, 'dist', 'main.js')]
    : ['--import', 'tsx', path.join(root, 'src', 'main.ts')];

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return `median ${median.toFixed(2)}s (min ${s[0]!.toFixed(2)}s, max ${s[s.length - 1]!.toFixed(2)}s, n=${s.length})`;
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const cp = await ControlPlane.start();
  try {
    const client = KubeClient.fromKubeconfig(cp.kubeconfig);
    const mapper = new RestMapper(client);
    const crd = yaml.load(
      readFileSync(path.join(root, 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'), 'utf8'),
    ) as KubeObject;
    await applyObjects(client, mapper, [crd], { fieldManager: 'bench' });
    for (let i = 0; i < 5; i++) {
      await client.request('POST', '/api/v1/nodes', {
        body: { apiVersion: 'v1', kind: 'Node', metadata: { name: `bench-${i}` } },
      });
    }
    const first: number[] = [];
    const noop: number[] = [];
    const edit: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const ns = `bench-${r}`;
      await client.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
      const cc = yaml.load(
        readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8'),
      ) as ClusterConfiguration;
      cc.metadata = { name: 'ks-installer', namespace: ns };
      await client.request('POST', collectionPath(ns), { body: cc });
      const lines: string[] = [];
      const child = spawn(
        process.execPath,
        [
          ...ENTRY,
          'run',
          '--kubeconfig',
          cp.kubeconfig,
          '--namespace',
          ns,
          '--health-addr',
          '0',
          '--metrics-addr',
          '0',
          '--log-format',
          'json',
          '--resync-period',
          '1h',
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      child.stdout.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
      const runs = () =>
        lines
          .map((l) => JSON.parse(l) as { msg: string; durationSeconds?: number })
          .filter((l) => l.msg.startsWith('run succeeded'));
      const waitRuns = async (n: number) => {
        while (runs().length < n) await new Promise((res) => setTimeout(res, 50));
        return runs()[n - 1]!.durationSeconds!;
      };
      first.push(await waitRuns(1));
      const p = objectPath({ namespace: ns, name: 'ks-installer' });
      await client.request('PATCH', p, {
        body: { status: { monitoring: null } },
        contentType: CONTENT_TYPE.merge,
      });
      noop.push(await waitRuns(2));
      await client.request('PATCH', p, {
        body: { spec: { monitoring: { node_exporter: { port: 9200 + r } } } },
        contentType: CONTENT_TYPE.merge,
      });
      edit.push(await waitRuns(3));
      rss.push(peakRssMiB(child.pid!));
      child.kill('SIGTERM');
      await new Promise((res) => child.once('exit', res));
    }
    console.log(
      `operator: node ${ENTRY.map((e) => path.relative(root, e) || e).join(' ')}` +
        (process.env.NODE_OPTIONS ? ` (NODE_OPTIONS=${process.env.NODE_OPTIONS})` : ''),
    );
    console.log(`first install (101 objects, 5 nodes): ${first[0]!.toFixed(2)}s`);
    if (first.length > 1) console.log(`startup run on an installed stack:   ${stats(first.slice(1))}`);
    console.log(`no-op run (nothing changes):        ${stats(noop)}`);
    console.log(`one-field edit (node-exporter port): ${stats(edit)}`);
    console.log(
      `operator peak RSS: ${Math.max(...rss).toFixed(0)} MiB (per run: ${rss.map((x) => x.toFixed(0)).join(', ')})`,
    );
  } finally {
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
