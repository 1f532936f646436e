/**
 * The operator behind a fault-injecting proxy (test/support/fault-proxy.ts, loopback only): 200 ms
 * added to every chunk it sends, 5% of them resetting the connection instead, and every connection
 * closed after 5 to 20 s (watches cut mid-stream). A first install, a spec edit and, once a connection
 * was cut while the operator idled, a drift repair converge; then an operator without faults finds nothing to create or change, so the faults left the
 * same objects as a run without them. Each phase's duration is printed with the faults injected.
 * On a control plane of its own: a first install.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterConfiguration } from '../../src/api/cluster-configuration.js';
import { KubeClient } from '../../src/kube/client.js';
import { ControlPlane } from '../../tools/envtest/control-plane.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import {
  ccPath,
  createClusterConfiguration,
  installClusterConfigurationCrd,
  mergePatch,
  MONITORING_NS,
  sampleClusterConfiguration,
  setNodeCount,
  type Obj,
} from './fixtures.js';
import { startOperatorProcess, waitUntil, type OperatorProcess } from './operator-process.js';

const NS = 'kubesphere-system';
const SEED = 19;
const SERVICE = `/api/v1/namespaces/${MONITORING_NS}/services/prometheus-k8s`;
const PROMETHEUS = `/apis/monitoring.coreos.com/v1/namespaces/${MONITORING_NS}/prometheuses/k8s`;

// Bounds of each phase: a phase takes 15-45 s here; one connection taken for dead costs up to 20 s
// more (ANSWER_STALL in src/reconcile/backoff.ts). The test's own timeout covers all of them.
const INSTALL_MS = 240_000;
const EDIT_MS = 180_000;
const DRIFT_MS = 180_000;
const CLEAN_MS = 120_000;
/** Connections live 5 to 20 s; idle, nothing resets one first. */
const CUT_MS = 60_000;

describe('network faults between the operator and kube-apiserver', () => {
  let cp: ControlPlane;
  let admin: KubeClient;
  let proxy: FaultProxy;
  let dir: string;
  const ops: OperatorProcess[] = [];
  const cc = () => admin.get<ClusterConfiguration>(ccPath(NS));
  const ready = async () =>
    (await cc()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  beforeAll(async () => {
    cp = await ControlPlane.start({ progress: () => undefined });
    admin = KubeClient.fromKubeconfig(cp.kubeconfig);
    await installClusterConfigurationCrd(admin);
    await setNodeCount(admin, 1);
    await admin.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    const target = new URL(cp.server);
    proxy = await startFaultProxy(
      { host: target.hostname, port: Number(target.port) },
      { latencyMs: 200, resetShare: 0.05, lifetimeMs: [5000, 20000] },
      SEED,
    );
    dir = await mkdtemp(path.join(tmpdir(), 'ks-faults-'));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(ops.map((o) => o.stop()));
    await proxy?.close();
    await admin?.close();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'installs, applies an edit and repairs drift under 200 ms latency and 5% resets, to the same objects',
    async () => {
      const kubeconfig = await proxy.writeKubeconfig(cp.kubeconfig, path.join(dir, 'faulty.kubeconfig'));
      const timings: string[] = [];
      const phase = async (what: string, fn: () => Promise<unknown>) => {
        const started = performance.now();
        try {
          await fn();
        } catch (err) {
          // The operator's log says where it was: kept in a file, its end in the failure.
          const log = path.join(await mkdtemp(path.join(tmpdir(), 'ks-faults-log-')), 'operator.log');
          await writeFile(log, `${op.lines.join('\n')}\n`);
          throw new Error(
            `${what}: ${(err as Error).message}\noperator log: ${log}; its last lines:\n${op.lines.slice(-20).join('\n')}`,
          );
        }
        timings.push(`${what} ${((performance.now() - started) / 1000).toFixed(1)} s`);
      };

      await createClusterConfiguration(admin, sampleClusterConfiguration(NS));
      const op = startOperatorProcess([
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        NS,
        '--resync-period',
        '1h',
      ]);
      ops.push(op);
      await phase('first install', () =>
        waitUntil(
          'monitoring enabled and Ready',
          async () => (await cc()).status?.monitoring?.status === 'enabled' && (await ready()),
          INSTALL_MS,
          500,
        ),
      );

      const hashBefore = (await cc()).status?.observedSpecHash;
      await phase('spec edit', async () => {
        await mergePatch(admin, ccPath(NS), { spec: { monitoring: { prometheus: { replicas: 2 } } } });
        await waitUntil(
          'the edit applied and Ready',
          async () =>
            (await admin.get<Obj & { spec: { replicas: number } }>(PROMETHEUS)).spec.replicas === 2 &&
            (await cc()).status?.observedSpecHash !== hashBefore &&
            (await ready()),
          EDIT_MS,
          500,
        );
      });

      // Idle, the operator sends next to nothing, so its connection lives to its lifetime and is cut
      // with the watches on it: the drift repair then needs them back.
      const cutsBefore = proxy.stats.cuts;
      await phase('idle until a connection is cut', () =>
        waitUntil('a connection cut', async () => proxy.stats.cuts > cutsBefore, CUT_MS, 200),
      );

      await phase('drift repair', async () => {
        const uid = (await admin.get<Obj>(SERVICE)).metadata.uid;
        await admin.request('DELETE', SERVICE);
        await waitUntil(
          'the Service put back',
          async () => {
            const s = await admin.getOrUndefined<Obj>(SERVICE);
            return s !== undefined && s.metadata.uid !== uid;
          },
          DRIFT_MS,
          500,
        );
      });
      const failed = op.count(/run failed/);
      const dead = op.count(/taken for dead/);
      await op.stop();
      process.stdout.write(
        `network faults (200 ms, 5% resets, connections cut after 5-20 s, seed ${SEED}): ${timings.join(', ')}; ` +
          `${proxy.stats.connections} connections, ${proxy.stats.resets} reset, ${proxy.stats.cuts} cut; ${dead} connections taken for dead; ${failed} failed runs retried\n`,
      );
      expect(proxy.stats.resets).toBeGreaterThan(0);
      expect(proxy.stats.cuts).toBeGreaterThan(0);

      // Without faults, a new operator finds every object as it would have made it.
      const clean = startOperatorProcess([
        '--kubeconfig',
        cp.kubeconfig,
        '--namespace',
        NS,
        '--resync-period',
        '1h',
      ]);
      ops.push(clean);
      const compare = await clean.waitFor(/compare: /, CLEAN_MS);
      expect(compare).toMatch(/: 0 to create, 0 to change, \d+ unchanged/);
      await clean.waitFor(/run succeeded/, CLEAN_MS);
    },
    INSTALL_MS + EDIT_MS + DRIFT_MS + CLEAN_MS,
  );
});
