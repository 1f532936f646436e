/**
 * The reconciler of a ClusterConfiguration: it only orchestrates the stages (docs/architecture.md),
 * each in its own folder: facts → plan (plan/) → compare with the live objects → check what differs (a
 * server-side dry run) → apply what differs, pipelined (sync/) → after-apply, each role's steps
 * (steps/) → lifecycle: what turned-off roles left is removed (lifecycle/) → report: status,
 * conditions, Events (report/). A plan or check failure writes nothing but
 * status; an apply failure stops sending. A failure is thrown after it is on the status, as a RunError
 * the queue retries or, when terminal, waits on an edit for. Why the run happens (its triggers) decides
 * only what it writes (report/write-budget.ts). The signal cancels a run between stages and stops its
 * apply; a cancelled run writes nothing more.
 */
import type { ClusterConfiguration } from '../api/cluster-configuration.js';
import type { ClusterFacts } from '../config/facts.js';
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, roleSelector } from '../config/ownership.js';
import type { FactsSource } from '../facts/source.js';
import type { KubeClient } from '../kube/client.js';
import { applyWouldChange } from '../kube/compare.js';
import type { RestMapper } from '../kube/discovery.js';
import { Fingerprints } from '../kube/fingerprints.js';
import { isCrd } from '../kube/object-ref.js';
import { JSON_ONLY, type Logger } from '../observe/logger.js';
import type { OperatorMetrics } from '../observe/metrics.js';
import type { Renderer } from '../render/renderer.js';
import type { ObjectCache } from '../reconcile/cache.js';
import {
  describeTrigger,
  RunCancelled,
  RunError,
  type Reconciler,
  type ReconcileResult,
  type Trigger,
} from '../reconcile/contract.js';
import { ROLES } from './catalog.js';
import { RoleLifecycle } from './lifecycle/remove-turned-off.js';
import type { Plan, PlannedObject, Role, RoleOutcome, RunReport } from './model.js';
import { PlanCache } from './plan/plan-cache.js';
import { settled } from './report/conditions.js';
import { FailureMemory, type RunPosition } from './report/failure-memory.js';
import { reportStarted, reportSucceeded } from './report/outcome.js';
import { RunProgress } from './report/progress.js';
import type { StatusWriter } from './report/status-writer.js';
import { writeBudget } from './report/write-budget.js';
import { runAfterApply } from './steps/after-apply.js';
import { ApplyError, applyPlan, type ApplyPlanContext } from './sync/apply-plan.js';
import { checkBeforeApply } from './sync/check.js';
import { compareWithLive } from './sync/compare.js';
import { replaceImmutableObjects } from './sync/immutable.js';

interface InstallerDeps {
  client: KubeClient;
  mapper: RestMapper;
  renderer: Renderer;
  crdsRoot: string;
  /** Where the facts come from (the cluster; a file for render). */
  facts: FactsSource;
  status: StatusWriter;
  /** The watched objects, as the controller last saw them. */
  cache: ObjectCache;
  /** The roles a run applies, in order (watches.yaml); default all of them. */
  roles?: readonly Role[];
  logger: Logger;
  metrics?: OperatorMetrics;
  concurrency?: number;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

export class Installer implements Reconciler {
  private readonly roles: readonly Role[];
  private readonly failures = new FailureMemory();
  /** Live objects found equal to ours: later runs read their metadata only (kube/fingerprints.ts). */
  private readonly fingerprints = new Fingerprints();
  private readonly plans = new PlanCache();
  /** Whether a run of this process got through its apply and after-apply steps. */
  private succeededOnce = false;
  /** Removes what turned-off roles left (lifecycle/remove-turned-off.ts). */
  private readonly lifecycle = new RoleLifecycle();

  constructor(private readonly deps: InstallerDeps) {
    this.roles = deps.roles ?? ROLES;
  }

  /** Runs for the cached object of `key`. */
  async reconcile(key: string, triggers: readonly Trigger[], signal: AbortSignal): Promise<ReconcileResult> {
    const entry = this.deps.cache.get(key);
    if (!entry) return {};
    const report = await this.run(entry.object, entry.hash, triggers, signal);
    return report.requeueAfterMs === undefined ? {} : { requeueAfterMs: report.requeueAfterMs };
  }

  /** One run; `hash` is the spec hash the controller computed, recorded as observedSpecHash. */
  async run(
    cc: ClusterConfiguration,
    hash: string,
    triggers: readonly Trigger[],
    signal: AbortSignal = new AbortController().signal,
  ): Promise<RunReport> {
    const { logger, status } = this.deps;
    const started = performance.now();
    const generation = cc.metadata.generation;
    const trigger = triggers.map(describeTrigger).join('; ');
    // Conditions come from the latest object (re-read, else our own last write), never from a cache
    // that may predate the previous run's own failure write.
    if (signal.aborted) throw new RunCancelled('start');
    const current = await status.latest(cc);
    const budget = writeBudget(triggers, settled(current, hash), this.failures.failedBefore);
    const quiet = budget.quietEnd;
    const before = current.status?.conditions ?? [];
    let conditions = before;
    logger.info(`run started: ${trigger}`, { generation, [JSON_ONLY]: { trigger, specHash: hash, quiet } });
    if (budget.start) conditions = await reportStarted(this.deps, cc, conditions, trigger, this.roles.length);

    const at: RunPosition = { index: 0, role: 'facts' };
    const progress = new RunProgress(status, !budget.progress, budget.start);
    /** Between stages: a cancelled run goes no further. */
    const next = (stage: string) => {
      if (signal.aborted) throw new RunCancelled(at.role);
      at.role = stage;
    };
    let report: RunReport;
    try {
      next('facts');
      const { plan, facts } = await this.plan(cc);
      next('compare');
      const { objects, live } = await compareWithLive(plan, { ...this.deps, ...this.context() });
      next('dry-run');
      const namespace = cc.metadata.namespace ?? 'default';
      await checkBeforeApply(objects, live, namespace, facts, { ...this.deps, ...this.context() });
      const immutable = await replaceImmutableObjects(objects, {
        client: this.deps.client,
        logger,
        event: (type, reason, message) => status.event(cc, type, reason, message),
      });
      if (immutable) throw new RunError('RefusedByApiServer', immutable);
      next('apply');
      const roles = await this.apply(plan, objects, progress, at, signal);
      next('after-apply');
      const after = await runAfterApply(plan, roles, objects, {
        ...this.deps,
        firstRun: !this.succeededOnce,
        event: (type, reason, message) => status.event(cc, type, reason, message),
      });
      next('remove');
      const removed = await this.lifecycle.removeTurnedOff(plan, {
        client: this.deps.client,
        mapper: this.deps.mapper,
        logger,
        ownership: {
          fieldManager: FIELD_MANAGER,
          label: { key: MANAGED_BY_LABEL, value: MANAGED_BY_VALUE },
          roleSelector,
        },
        event: (type, reason, message) => status.event(cc, type, reason, message),
        signal,
        absentNamespaces: live.missingNamespaces,
      });
      after.changed += removed.reduce((n, r) => n + r.removed.length, 0);
      report = {
        removed,
        plan,
        roles,
        warnings: [...plan.warnings, ...after.warnings],
        changed: roles.reduce((n, r) => n + r.created + r.changed, 0) + after.changed,
        objects: roles.reduce((n, r) => n + r.objects, 0),
        durationMs: performance.now() - started,
        ...(after.requeueAfterMs === undefined ? {} : { requeueAfterMs: after.requeueAfterMs }),
        ...(after.enabled?.length ? { enabled: after.enabled } : {}),
      };
    } catch (err) {
      if (signal.aborted) {
        logger.info(`run cancelled at ${at.role}; nothing more written`);
        throw err instanceof RunCancelled ? err : new RunCancelled(at.role);
      }
      if (err instanceof ApplyError) Object.assign(at, { index: err.roleIndex, role: err.role });
      const cause = err instanceof ApplyError ? err.cause : err;
      const deps = { ...this.deps, roles: this.roles.length };
      const wrote = budget.start || progress.written;
      return this.failures.report(deps, current, cause, conditions, generation, at, wrote);
    }
    this.failures.forget();
    this.succeededOnce = true;
    await reportSucceeded(this.deps, current, hash, report, conditions, before, quiet);
    return report;
  }

  /** Facts, then the plan: values and rendered objects of every role. Writes nothing. */
  private async plan(cc: ClusterConfiguration): Promise<{ plan: Plan; facts: ClusterFacts }> {
    const { logger } = this.deps;
    const factsStarted = performance.now();
    const facts = await this.deps.facts.gather(cc.spec ?? {});
    logger.info(
      `facts: ${facts.nodeCount} nodes, Kubernetes ${facts.kubernetesVersion} in ${seconds(performance.now() - factsStarted)}s`,
      { [JSON_ONLY]: { nodes: facts.nodeCount, kubernetesVersion: facts.kubernetesVersion } },
    );
    const planStarted = performance.now();
    const { plan, reused } = await this.plans.plan(cc.spec ?? {}, facts, {
      ...this.deps,
      roles: this.roles,
      validate: false,
    });
    const planned = plan.roles.reduce((n, r) => n + r.manifests.length, 0);
    logger.info(
      `plan: ${planned} objects ${reused ? 'as the last run rendered them (same spec and facts)' : 'rendered'} in ${seconds(performance.now() - planStarted)}s`,
    );
    // Custom resources of the plan's CRDs map without discovery, also right after their CRD is created.
    for (const rp of plan.roles)
      for (const m of rp.manifests) if (isCrd(m.object)) this.deps.mapper.learn(m.object);
    for (const w of plan.warnings)
      logger.warn(`${w.type}: ${w.message}`, { condition: w.type, reason: w.reason });
    if (plan.values.external)
      logger.info('common.monitoring.type is external: no in-cluster monitoring stack is installed');
    return { plan, facts };
  }

  /** What the sync stage needs of the run: where to send, as whom, how many at once. */
  private context(): ApplyPlanContext & { fingerprints: Fingerprints; roles: readonly Role[] } {
    const { client, mapper, logger, concurrency } = this.deps;
    const fingerprints = this.fingerprints;
    return {
      client,
      mapper,
      logger,
      concurrency,
      fieldManager: FIELD_MANAGER,
      fingerprints,
      roles: this.roles,
    };
  }

  /** Applies what differs, pipelined (sync/apply-plan.ts), with metrics and the progress per role. */
  private apply(
    plan: Plan,
    objects: PlannedObject[],
    progress: RunProgress,
    at: RunPosition,
    signal: AbortSignal,
  ): Promise<RoleOutcome[]> {
    const { metrics } = this.deps;
    return applyPlan(plan, objects, {
      ...this.context(),
      signal,
      // What the API server stored is what the next run would read: remembered when equal to ours.
      onApplied: (p, stored, established) => {
        if (!applyWouldChange(p.object, stored, FIELD_MANAGER))
          this.fingerprints.remember(p.object, stored, established);
      },
      onRoleDone: async (o, done, total) => {
        Object.assign(at, { index: done, role: o.name });
        metrics?.roleDuration.observe({ role: o.name }, o.durationMs / 1000);
        metrics?.objectsApplied.inc({ role: o.name, result: 'changed' }, o.created + o.changed);
        metrics?.objectsApplied.inc({ role: o.name, result: 'unchanged' }, o.unchanged);
        // A skipped role applied nothing: its boundary is no progress worth a write.
        if (!o.skipped) await progress.roleDone(o.name, done, total);
      },
    });
  }
}
