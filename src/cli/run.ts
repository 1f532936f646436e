/**
 * `ks-installer run`: the operator process. Logger, metrics and health endpoints, the hooks, the
 * installer and the controller; with --leader-elect, the controller only runs while this process
 * holds the Lease. SIGTERM/SIGINT stop it cleanly: the watch closes, a run in progress is cancelled
 * through its signal (at once with leader election, after a short grace period without: it sends and
 * writes nothing more, and its requests are aborted) and awaited, the Lease is released and the HTTP
 * servers close.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { Controller } from '../controller/controller.js';
import { LeaderElector } from '../controller/leader.js';
import { UserHooks } from '../controller/user-hooks.js';
import { loadHooks } from '../hooks/discover.js';
import { createClusterConfigurationIfMissing } from './create-cluster-configuration.js';
import { FIELD_MANAGER, LEASE_NAME, MANAGED_BY_SELECTOR } from '../config/ownership.js';
import { Installer } from '../installer/run.js';
import { MONITORING_NAMESPACE } from '../config/values.js';
import { projectRoot } from '../paths.js';
import { StatusWriter } from '../installer/report/status-writer.js';
import { KubeClient } from '../kube/client.js';
import type { RetryAttempt } from '../kube/retry.js';
import { RestMapper } from '../kube/discovery.js';
import { healthRoutes, metricsRoutes, startHttpServer, type RunningServer } from '../observe/http.js';
import { createLogger, parseLogFormat, parseLogLevel, type Logger } from '../observe/logger.js';
import { createOperatorMetrics, Registry } from '../observe/metrics.js';
import { createRenderer } from '../render/renderer.js';
import { parseDurationMs, parseFlags, type FlagSpec } from './flags.js';
import { ObjectCache } from '../reconcile/cache.js';
import { reportUserHooks } from '../controller/user-hook-status.js';
import { DEFAULT_CONCURRENCY } from '../util/concurrency.js';
import { loadWatches, resourceBase } from '../watches.js';
import { ClusterFactsSource } from '../facts/cluster.js';

export const RUN_FLAGS = {
  kubeconfig: { type: 'string', help: 'kubeconfig file (else in-cluster, else $KUBECONFIG)' },
  namespace: { type: 'string', help: 'namespace of the ClusterConfiguration (default: the install binding)' },
  name: { type: 'string', help: 'name of the ClusterConfiguration (default: the install binding)' },
  'leader-elect': { type: 'boolean', default: false, help: 'hold Lease ks-installer before reconciling' },
  'leader-election-namespace': { type: 'string', help: 'namespace of the Lease (default: --namespace)' },
  'lease-duration': { type: 'string', default: '15s', help: 'leader election lease duration' },
  'renew-deadline': { type: 'string', default: '10s', help: 'leader election renew deadline' },
  'retry-period': { type: 'string', default: '2s', help: 'leader election retry period' },
  'health-addr': { type: 'string', default: ':8081', help: '/healthz and /readyz address; 0 disables' },
  'metrics-addr': { type: 'string', default: ':8080', help: '/metrics address; 0 disables' },
  'log-format': { type: 'string', default: 'text', help: 'text or json' },
  'log-level': { type: 'string', default: 'info', help: 'error, warn, info or debug' },
  'hooks-dir': { type: 'string', help: 'hooks directory (default: the installed hooks/)' },
  'resync-period': {
    type: 'string',
    help: 'periodic re-apply interval, e.g. 5m (default: the resync binding crontab)',
  },
  concurrency: {
    type: 'string',
    default: String(DEFAULT_CONCURRENCY),
    help: 'requests in flight while applying',
  },
  'create-cluster-configuration': {
    type: 'string',
    help: 'create the ClusterConfiguration from this YAML file when it does not exist',
  },
  help: { type: 'boolean', short: 'h', default: false, help: 'show this help' },
} satisfies Record<string, FlagSpec>;

/** How long a run in progress may go on after SIGTERM when no standby waits for the Lease. */
const SHUTDOWN_GRACE_MS = 5000;

interface RunningOperator {
  stop(): Promise<void>;
  logger: Logger;
  done: Promise<number>;
}

export async function startOperator(argv: string[]): Promise<RunningOperator> {
  const flags = parseFlags(argv, RUN_FLAGS);
  const logger = createLogger({
    format: parseLogFormat(flags['log-format']!),
    level: parseLogLevel(flags['log-level']!),
  });
  const root = projectRoot();
  const hooksDir = flags['hooks-dir'] ?? path.join(root, 'hooks');
  const watch = await loadWatches(root);
  const namespace = flags.namespace ?? watch.target.namespace;
  const name = flags.name ?? watch.target.name;
  const hooks = await loadHooks(hooksDir, { target: { namespace, name } });
  for (const e of hooks.errors) logger.warn(`user hook ${e.file} ignored: ${e.reason}`);
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;

  const registry = new Registry();
  const metrics = createOperatorMetrics(registry);
  const onRetry = (a: RetryAttempt) => {
    metrics.requestRetries.inc({ reason: a.reason });
    logger.debug(
      `${a.method} ${a.path}: sent again in ${(a.delayMs / 1000).toFixed(2)}s (retry ${a.attempt})`,
      {
        reason: a.reason,
        err: a.error,
      },
    );
  };
  // Shutdown cancels every request of the controller's client (a run in progress ends at once); the
  // Lease's requests go through their own client on the same connection, so the release still goes out.
  const cancelRequests = new AbortController();
  const onDeadConnection = (reason: string) =>
    logger.warn(`connection to the API server taken for dead (${reason}); its requests are sent again`);
  const client = KubeClient.fromKubeconfig(flags.kubeconfig, undefined, {
    onRetry,
    onDeadConnection,
    signal: cancelRequests.signal,
  });
  const electionClient = new KubeClient(client.kubeConfig, undefined, { onRetry, onDeadConnection });
  const mapper = new RestMapper(client);
  const userHooks = new UserHooks(hooks.userHooks, logger.child({ component: 'hooks' }));
  const status = new StatusWriter(client, { namespace, name }, logger, identity);
  const cache = new ObjectCache();
  const installer = new Installer({
    client,
    mapper,
    facts: new ClusterFactsSource(client, mapper),
    renderer: createRenderer(path.join(root, 'templates')),
    crdsRoot: path.join(root, 'crds'),
    status,
    cache,
    roles: watch.roles,
    logger,
    metrics,
    concurrency: Number(flags.concurrency),
  });
  userHooks.onFailuresChanged = (failures) => void reportUserHooks(status, failures);
  const controller = new Controller({
    client,
    reconciler: installer,
    cache,
    logger,
    metrics,
    namespace,
    name,
    jqFilter: watch.jqFilter,
    resync: flags['resync-period']
      ? { everyMs: parseDurationMs(flags['resync-period'], 'resync-period') }
      : { crontab: watch.resync },
    userHooks,
    drift: {
      namespace: MONITORING_NAMESPACE,
      resources: watch.owns.map((r) => ({ base: resourceBase(r), resource: r.resource })),
      labelSelector: MANAGED_BY_SELECTOR,
      fieldManager: FIELD_MANAGER,
    },
    signal: cancelRequests.signal,
  });

  const leaderElect = flags['leader-elect'];
  const elector = leaderElect
    ? new LeaderElector(electionClient, {
        namespace: flags['leader-election-namespace'] ?? namespace,
        name: LEASE_NAME,
        identity,
        logger,
        leaseDurationMs: parseDurationMs(flags['lease-duration']!, 'lease-duration'),
        renewDeadlineMs: parseDurationMs(flags['renew-deadline']!, 'renew-deadline'),
        retryPeriodMs: parseDurationMs(flags['retry-period']!, 'retry-period'),
      })
    : undefined;

  const servers = await startServers(flags['health-addr']!, flags['metrics-addr']!, {
    healthz: () => ({ ok: true }),
    readyz: () =>
      !elector || elector.isLeader
        ? controller.isSynced
          ? { ok: true }
          : { ok: false, reason: 'the ClusterConfiguration watch has not synced yet' }
        : { ok: true },
    metrics: registry,
  });
  logger.info('ks-installer starting', {
    watch: `${namespace}/${name}`,
    identity,
    leaderElect,
    userHooks: userHooks.count,
    health: servers.health?.address,
    metrics: servers.metrics?.address,
  });

  const abort = new AbortController();
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let exitCode = 0;
  let holding: Promise<unknown> | undefined;

  const main = async () => {
    if (elector) {
      metrics.leader.set(0);
      if (!(await elector.acquire(abort.signal))) return;
    }
    metrics.leader.set(1);
    const createFrom = flags['create-cluster-configuration'];
    if (createFrom)
      await createClusterConfigurationIfMissing(client, createFrom, { namespace, name }, logger);
    await userHooks.start();
    controller.start();
    if (elector) {
      const hold = elector.hold(abort.signal);
      holding = hold;
      const why = await hold;
      if (why === 'lost') {
        metrics.leader.set(0);
        exitCode = 1;
        await stop();
      }
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      abort.abort();
      // With a standby waiting (leader election), a run in progress is cancelled at once so the Lease
      // is released within a second (controller-runtime's LeaderElectionReleaseOnCancel): its applies
      // are idempotent and the next leader runs again. Alone, the run gets a grace period first.
      // Cancelling aborts the run's signal (it stops between stages and stops sending, writing nothing
      // more) and every request of the controller's client, so the run ends and stop() is awaited.
      const grace = setTimeout(() => cancelRequests.abort(), elector ? 0 : SHUTDOWN_GRACE_MS);
      await controller.stop();
      clearTimeout(grace);
      cancelRequests.abort();
      // The renewal in flight answers first: a release racing it would be refused as a conflict.
      await holding;
      await elector?.release();
      await servers.close();
      await Promise.race([client.close(), new Promise((r) => setTimeout(r, 1000))]);
      logger.info('stopped');
      resolveDone(exitCode);
    })());

  main().catch(async (err: unknown) => {
    logger.error('operator failed', { err });
    exitCode = 1;
    await stop();
  });
  return { stop, logger, done };
}

interface Servers {
  health?: RunningServer;
  metrics?: RunningServer;
  close(): Promise<void>;
}

async function startServers(
  healthAddr: string,
  metricsAddr: string,
  handlers: {
    healthz: () => { ok: boolean; reason?: string };
    readyz: () => { ok: boolean; reason?: string };
    metrics: Registry;
  },
): Promise<Servers> {
  const health = healthRoutes({
    checks: { healthz: { ping: handlers.healthz }, readyz: { controller: handlers.readyz } },
  });
  const metrics = metricsRoutes(handlers.metrics);
  const started: RunningServer[] = [];
  let healthServer: RunningServer | undefined;
  let metricsServer: RunningServer | undefined;
  if (healthAddr === metricsAddr) {
    const s = await startHttpServer({ address: healthAddr, routes: { ...health, ...metrics } });
    if (s) started.push((healthServer = metricsServer = s));
  } else {
    const h = await startHttpServer({ address: healthAddr, routes: health });
    if (h) started.push((healthServer = h));
    const m = await startHttpServer({ address: metricsAddr, routes: metrics });
    if (m) started.push((metricsServer = m));
  }
  return {
    health: healthServer,
    metrics: metricsServer,
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
