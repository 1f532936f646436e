/**
 * The reconciler of a ClusterConfiguration: gather facts → plan (resolve, render, validate) → apply
 * role by role → after-apply (volume growth) → status, conditions and Events. A plan failure writes
 * nothing but status; an apply failure stops at the failing role. A failure is thrown after it is on
 * the status: a TerminalError for an invalid spec (it needs an edit), any other error to be retried.
 */
import type { ClusterFacts } from '../config/facts.js';
import type { ValueWarning } from '../config/values.js';
import type { KubeClient } from '../kube/client.js';
import type { RestMapper } from '../kube/discovery.js';
import { JSON_ONLY, type Logger } from '../observe/logger.js';
import type { OperatorMetrics } from '../observe/metrics.js';
import type { Renderer } from '../render/renderer.js';
import { applyPlan, type RoleOutcome } from './apply-plan.js';
import {
  BUILTIN_ALERTS_CONDITION,
  builtinAlertsState,
  pruneFallbackRules,
  type BuiltinAlertsState,
} from './builtin-alerts.js';
import { gatherFacts } from './facts.js';
import { makePlan, PlanError, type Plan } from './plan.js';
import { ROLES, type Role } from './roles.js';
import { growPrometheusStorage, STORAGE_NOT_EXPANDABLE } from './storage-growth.js';
import {
  hasCondition,
  rfc3339,
  setCondition,
  type ClusterConfiguration,
  type Condition,
} from '../api/cluster-configuration.js';
import {
  RESYNC_REASON,
  TerminalError,
  type ObjectCache,
  type Reconciler,
  type ReconcileResult,
} from '../controller/reconciler.js';
import type { StatusWriter } from './status.js';
import { webhookTls } from './webhook-tls.js';

export const FIELD_MANAGER = 'ks-installer';

export interface InstallerDeps {
  client: KubeClient;
  mapper: RestMapper;
  renderer: Renderer;
  crdsRoot: string;
  status: StatusWriter;
  /** The watched objects, as the controller last saw them. */
  cache: ObjectCache;
  /** The roles a run applies, in order (watches.yaml); default all of them. */
  roles?: readonly Role[];
  logger: Logger;
  metrics?: OperatorMetrics;
  concurrency?: number;
}

/** A successful run: what it did, for logs and the caller's next step. */
export interface RunReport {
  roles: RoleOutcome[];
  warnings: ValueWarning[];
  durationMs: number;
  /** Set while a requested volume expansion has not finished: look again after this long. */
  requeueAfterMs?: number;
}

/** How soon to look at a Prometheus volume again while its expansion is in progress. */
const EXPANSION_RECHECK_MS = 30_000;

const WARNING_TYPES = new Set([
  'PrometheusStorageShrinkRefused',
  'EtcdClientCertsMissing',
  STORAGE_NOT_EXPANDABLE,
]);

interface RunOptions {
  /**
   * A periodic drift check: when the object already shows a successful run of this spec, the run
   * writes no progress and posts no RunStarted Event, and leaves the status and Events alone unless it
   * corrected drift or the warnings changed. Every status write bumps metadata.generation (there is
   * no status subresource), so a loud resync would rewrite the object many times an hour.
   */
  quiet?: boolean;
}

/** Whether the status already shows a finished, successful run of the spec with this hash. */
function settled(cc: ClusterConfiguration, hash: string): boolean {
  return (
    cc.status?.monitoring?.status === 'enabled' &&
    cc.status.observedSpecHash === hash &&
    hasCondition(cc, 'Ready', 'True') &&
    hasCondition(cc, 'Progressing', 'False') &&
    hasCondition(cc, 'Degraded', 'False')
  );
}

/** The same conditions by type, status, reason and message (times and generations aside). */
function sameConditions(a: Condition[], b: Condition[]): boolean {
  const key = (list: Condition[]) =>
    JSON.stringify(
      list.map((c) => [c.type, c.status, c.reason, c.message]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
  return key(a) === key(b);
}

export class Installer implements Reconciler {
  private readonly roles: readonly Role[];

  constructor(private readonly deps: InstallerDeps) {
    this.roles = deps.roles ?? ROLES;
  }

  /** Runs for the cached object of `key`; a run queued only by the resync is a quiet drift check. */
  async reconcile(key: string, reasons: string[]): Promise<ReconcileResult> {
    const entry = this.deps.cache.get(key);
    if (!entry) return {};
    const report = await this.run(entry.object, entry.hash, reasons.join('; '), {
      quiet: reasons.every((r) => r === RESYNC_REASON),
    });
    return report.requeueAfterMs === undefined ? {} : { requeueAfterMs: report.requeueAfterMs };
  }

  /** One run; `hash` is the spec hash the controller computed, recorded as observedSpecHash. */
  async run(
    cc: ClusterConfiguration,
    hash: string,
    trigger: string,
    options: RunOptions = {},
  ): Promise<RunReport> {
    const { logger, status } = this.deps;
    const started = performance.now();
    const generation = cc.metadata.generation;
    const quiet = options.quiet === true && settled(cc, hash);
    const before: Condition[] = cc.status?.conditions ?? [];
    let conditions: Condition[] = before;
    const cond = (type: string, s: Condition['status'], reason: string, message: string) => {
      conditions = setCondition(conditions, {
        type,
        status: s,
        reason,
        message,
        observedGeneration: generation,
      });
    };
    logger.info(`run started: ${trigger}`, { generation, [JSON_ONLY]: { trigger, specHash: hash, quiet } });
    if (!quiet) {
      cond('Progressing', 'True', 'Reconciling', `run started: ${trigger}`);
      await status.patch({ conditions, progress: `0/${this.roles.length} starting` });
      await status.event(cc, 'Normal', 'RunStarted', `monitoring run started (${trigger})`);
    }

    let plan: Plan;
    let roles: RoleOutcome[] = [];
    let warnings: ValueWarning[] = [];
    let expanding = false;
    let alerts: BuiltinAlertsState | undefined;
    let pruned: string[] = [];
    let at = { index: 0, role: 'facts' };
    try {
      const factsStarted = performance.now();
      const gathered = await gatherFacts(this.deps.client, this.deps.mapper);
      const facts: ClusterFacts = { ...gathered, webhookTls: await webhookTls(this.deps.client) };
      logger.info(
        `facts: ${facts.nodeCount} nodes, Kubernetes ${facts.kubernetesVersion} in ${((performance.now() - factsStarted) / 1000).toFixed(2)}s`,
        { [JSON_ONLY]: { nodes: facts.nodeCount, kubernetesVersion: facts.kubernetesVersion } },
      );
      const planStarted = performance.now();
      plan = await makePlan(cc.spec ?? {}, facts, {
        renderer: this.deps.renderer,
        crdsRoot: this.deps.crdsRoot,
        roles: this.roles,
      });
      const planned = plan.roles.reduce((n, r) => n + r.manifests.length, 0);
      logger.info(
        `plan: ${planned} objects rendered and validated in ${((performance.now() - planStarted) / 1000).toFixed(2)}s`,
      );
      for (const w of plan.warnings)
        logger.warn(`${w.type}: ${w.message}`, { condition: w.type, reason: w.reason });
      if (plan.values.external)
        logger.info('common.monitoring.type is external: no in-cluster monitoring stack is installed');

      roles = await applyPlan(plan, {
        client: this.deps.client,
        mapper: this.deps.mapper,
        logger,
        fieldManager: FIELD_MANAGER,
        concurrency: this.deps.concurrency,
        onRoleStart: async (i, total, rp) => {
          at = { index: i, role: rp.role.name };
          if (!quiet) await status.patch({ progress: `${i + 1}/${total} ${rp.role.name}` });
        },
        onRoleDone: (o) => {
          this.deps.metrics?.roleDuration.observe({ role: o.name }, o.durationMs / 1000);
          this.deps.metrics?.objectsApplied.inc({ role: o.name, result: 'changed' }, o.created + o.changed);
          this.deps.metrics?.objectsApplied.inc({ role: o.name, result: 'unchanged' }, o.unchanged);
        },
      });
      warnings = [...plan.warnings];
      alerts = builtinAlertsState(plan);
      // Installed as GlobalRuleGroups: the fallback PrometheusRules of earlier runs go, by name.
      if (alerts.reason === 'GlobalRuleGroups') {
        at = { index: roles.length - 1, role: 'builtin alerts' };
        pruned = await pruneFallbackRules(this.deps.client, plan.values.namespace);
      }
      logger.info(
        `builtin alerts: ${alerts.message}${pruned.length ? `; deleted the fallback PrometheusRules ${pruned.join(', ')}` : ''}`,
        { [JSON_ONLY]: { form: alerts.reason, pruned } },
      );
      // Existing Prometheus volumes grow to the size the CR now asks for, where their StorageClass allows it.
      if (roles.some((r) => r.name === 'prometheus-stack' && !r.skipped)) {
        const v = plan.values;
        const growth = await growPrometheusStorage(
          this.deps.client,
          v.namespace,
          v.prometheus.storage.size,
          logger,
        );
        for (const w of growth.warnings)
          logger.warn(`${w.type}: ${w.message}`, { condition: w.type, reason: w.reason });
        warnings.push(...growth.warnings);
        expanding = growth.expanding;
      }
    } catch (err) {
      return this.fail(cc, err, conditions, generation, at);
    }
    const requeue = expanding ? { requeueAfterMs: EXPANSION_RECHECK_MS } : {};

    if (alerts) cond(BUILTIN_ALERTS_CONDITION, alerts.status, alerts.reason, alerts.message);
    // Warnings: one condition each, True while it applies; earlier ones that no longer apply turn False.
    const current = new Set(warnings.map((w) => w.type));
    for (const w of warnings) cond(w.type, 'True', w.reason, w.message);
    for (const c of conditions) {
      if (WARNING_TYPES.has(c.type) && !current.has(c.type) && c.status === 'True') {
        cond(c.type, 'False', 'Resolved', 'no longer applies');
      }
    }
    const changed = roles.reduce((n, r) => n + r.created + r.changed, 0) + pruned.length;
    const objects = roles.reduce((n, r) => n + r.objects, 0);
    const durationMs = performance.now() - started;
    const summary = plan.values.external
      ? 'external monitoring: nothing installed in the cluster'
      : `${objects} objects (${changed} changed) in ${(durationMs / 1000).toFixed(2)}s; Prometheus answers at http://prometheus-k8s.${plan.values.namespace}.svc:9090`;
    const figures = { objects, changed, durationSeconds: Number((durationMs / 1000).toFixed(3)) };
    if (quiet && changed === 0 && sameConditions(before, conditions)) {
      logger.info(`run succeeded: ${summary}; no drift, status left as it was`, { [JSON_ONLY]: figures });
      return { roles, warnings, durationMs, ...requeue };
    }
    cond('Ready', 'True', 'RunSucceeded', summary);
    cond('Progressing', 'False', 'RunComplete', 'idle');
    cond('Degraded', 'False', 'RunSucceeded', 'last run succeeded');
    const monitoring =
      cc.status?.monitoring?.status === 'enabled'
        ? cc.status.monitoring
        : { status: 'enabled', enabledTime: rfc3339() };
    await status.patch({
      monitoring,
      conditions,
      progress: `${roles.length}/${roles.length} done`,
      observedSpecHash: hash,
    });
    await status.event(cc, 'Normal', 'RunSucceeded', summary);
    logger.info(`run succeeded: ${summary}`, { [JSON_ONLY]: figures });
    return { roles, warnings, durationMs, ...requeue };
  }

  private async fail(
    cc: ClusterConfiguration,
    err: unknown,
    conditions: Condition[],
    generation: number | undefined,
    at: { index: number; role: string },
  ): Promise<never> {
    const { logger, status } = this.deps;
    const planError = err instanceof PlanError ? err : undefined;
    const reason = planError?.reason ?? 'ApplyFailed';
    const message = (err as Error).message;
    const set = (type: string, s: Condition['status'], r: string, m: string) => {
      conditions = setCondition(conditions, {
        type,
        status: s,
        reason: r,
        message: m,
        observedGeneration: generation,
      });
    };
    set('Degraded', 'True', reason, message);
    set('Ready', 'False', reason, message);
    set('Progressing', 'False', 'RunFailed', 'idle after a failed run');
    await status.patch({ conditions, progress: `${at.index + 1}/${this.roles.length} ${at.role} failed` });
    await status.event(cc, 'Warning', reason, message);
    logger.error(`run failed at ${at.role}: ${reason}`, { reason, role: at.role, err: message });
    throw reason === 'InvalidSpec' ? new TerminalError(message) : new Error(`${reason}: ${message}`);
  }
}
