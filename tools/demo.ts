/**
 * `npm run demo`: the main job end to end. Without --kubeconfig it starts the embedded control plane
 * (and gives it 3 Node objects); it installs the ClusterConfiguration CRD, creates the sample
 * ClusterConfiguration, runs `ks-installer run` until monitoring is enabled (its log streams here),
 * prints `kubectl get cc`, and stops everything it started. `--keep` leaves the control plane running.
 * `--live` (embedded control plane only) then runs the installed stack for real (tools/live/: the process
 * kubelet runs prometheus-operator, Prometheus, Alertmanager, node-exporter on each Node and
 * kube-state-metrics as local processes in network namespaces), waits until every target that can be up
 * is up and every rule group has evaluated, and prints what the console would show and what the stack
 * costs; with `--keep` it stays up with Prometheus's and Alertmanager's URLs printed.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ControlPlane } from './envtest/control-plane.js';
import { resolveBinaries } from './envtest/binaries.js';
import { projectRoot } from '../src/paths.js';
import { collectionPath, objectPath, type ClusterConfiguration } from '../src/api/cluster-configuration.js';
import { applyObjects } from './apply-objects.js';
import { ApiError, KubeClient, type KubeObject } from '../src/kube/client.js';
import { RestMapper } from '../src/kube/discovery.js';
import { printConsole, printUsage, waitUntilSettled } from './live/console.js';
import { EXPECTED_DOWN, LiveStack, liveClusterConfiguration, MUST_BE_UP } from './live/stack.js';
import type { ExposedPort } from './live/network.js';

const root = projectRoot();
const say = (line: string) => process.stdout.write(`demo: ${line}\n`);

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ApiError && err.conflict)) throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const keep = argv.includes('--keep');
  const kcIndex = argv.indexOf('--kubeconfig');
  const external = kcIndex >= 0 ? argv[kcIndex + 1] : undefined;
  const live = argv.includes('--live');
  if (live && external)
    throw new Error('--live runs the stack on the embedded control plane: drop --kubeconfig');
  let stack: LiveStack | undefined;
  let etcd: ExposedPort | undefined;
  const cp = external ? undefined : await ControlPlane.start({ withTools: true });
  const kubeconfig = external ?? cp!.kubeconfig;
  const kubectl = external ? 'kubectl' : (await resolveBinaries({ needed: ['kubectl'] })).kubectl;
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    const client = KubeClient.fromKubeconfig(kubeconfig);
    const mapper = new RestMapper(client);
    const crd = yaml.load(
      readFileSync(path.join(root, 'crds', 'installer.kubesphere.io_clusterconfigurations.yaml'), 'utf8'),
    ) as KubeObject;
    await applyObjects(client, mapper, [crd], { fieldManager: 'ks-installer-demo' });
    say('ClusterConfiguration CRD installed');
    if (cp) {
      for (let i = 1; i <= 3; i++) {
        await ignoreConflict(
          client.request('POST', '/api/v1/nodes', {
            body: {
              apiVersion: 'v1',
              kind: 'Node',
              metadata: { name: `demo-node-${i}`, labels: { 'kubernetes.io/os': 'linux' } },
            },
          }),
        );
      }
      say('3 Node objects created (the embedded control plane has no kubelets)');
    }
    const cc = yaml.load(
      readFileSync(path.join(root, 'examples', 'cluster-configuration.yaml'), 'utf8'),
    ) as ClusterConfiguration;
    const ns = cc.metadata.namespace!;
    // One machine: one Prometheus, Alertmanager and ThanosRuler; etcd exposed and scraped; alerting on.
    if (live && cp) etcd = await liveClusterConfiguration(cc, cp);
    await ignoreConflict(
      client.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      }),
    );
    await ignoreConflict(client.request('POST', collectionPath(ns), { body: cc }));
    say(`ClusterConfiguration ${ns}/${cc.metadata.name} created from examples/cluster-configuration.yaml`);

    say('starting ks-installer run; its log follows');
    const started = Date.now();
    operator = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'src', 'main.ts'),
        'run',
        '--kubeconfig',
        kubeconfig,
        '--health-addr',
        '127.0.0.1:0',
        '--metrics-addr',
        '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], cwd: root },
    );
    const ccPath = objectPath({ namespace: ns, name: cc.metadata.name });
    for (;;) {
      const live = await client.get<ClusterConfiguration>(ccPath);
      if (live.status?.monitoring?.status === 'enabled') break;
      if (operator.exitCode !== null) throw new Error(`ks-installer exited with code ${operator.exitCode}`);
      if (Date.now() - started > 300_000) throw new Error('monitoring was not enabled within 5 minutes');
      await new Promise((r) => setTimeout(r, 300));
    }
    say(`monitoring enabled in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const got = await execa(kubectl, ['--kubeconfig', kubeconfig, 'get', 'cc', '-n', ns], {
      reject: false,
      all: true,
    });
    process.stdout.write(`\n$ kubectl get cc -n ${ns}\n${got.all}\n\n`);
    if (live && cp) {
      say(
        'starting the live stack (tools/live): the Pods of the stack as local processes in network namespaces',
      );
      const liveStarted = Date.now();
      stack = await LiveStack.start({
        client,
        server: cp.info.server,
        kubeconfig,
        log: (l) => say(`live: ${l}`),
        exposed: etcd ? [etcd] : [],
      });
      await waitUntilSettled(stack, {
        expectedDown: new Set(Object.keys(EXPECTED_DOWN)),
        mustBeUp: MUST_BE_UP,
        say: (l) => say(`${l} (${((Date.now() - liveStarted) / 1000).toFixed(0)}s after the start)`),
      });
      const window = (Date.now() - liveStarted) / 1000;
      const out = (s: string) => process.stdout.write(s);
      await printConsole(stack, out);
      for (const [job, why] of Object.entries(EXPECTED_DOWN)) out(`  (${job} targets are down: ${why})\n`);
      // CPU since each process started (a process restarted later counts from its own start).
      printUsage(stack, new Map(), window, out);
      if (keep) {
        out(
          `\nPrometheus:   ${stack.prometheusUrl()}\nAlertmanager: ${stack.alertmanagerUrl() ?? '(not running)'}\nThanosRuler:  ${stack.thanosRulerUrl() ?? '(not running)'}\n`,
        );
        out(`Logs of every process: ${stack.dir}/logs\n`);
      }
    }
    return 0;
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await exited;
    }
    if (stack && !keep) await stack.stop();
    if (!keep) etcd?.remove();
    if (cp && keep) {
      say(`control plane left running: export KUBECONFIG=${cp.kubeconfig}  (Ctrl-C stops it)`);
      await new Promise(() => undefined);
    } else if (cp) {
      await cp.stop();
      say('control plane stopped');
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
