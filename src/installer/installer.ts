/**
 * The reconciler of a ClusterConfiguration, a pipeline of steps: facts → plan (resolve, render) →
 * compare with the live objects → check what differs (a server-side dry run) → apply what differs,
 * pipelined → after-apply (each role's steps: volume growth, the built-in alerts' switch-over) → report
 * (status, conditions, Events). A plan or check failure writes nothing but status; an apply failure
 * stops sending. A failure is thrown after it is on the status: a
 * TerminalError for an invalid spec (it needs an edit), any other error to be retried by the queue.
 */
import { createHash } from 'node:crypto';
import type { ClusterConfiguration, Condition } from '../api/cluster-configuration.js';
import { hasCondition, rfc3339 } from '../api/cluster-configuration.js';
import {
  CHECK_AGAIN_REASON,
  RESYNC_REASON,
  RETRY_REASON_PREFIX,
  TerminalError,
  type ObjectCache,
  type Reconciler,
  type ReconcileResult,
} from '../controller/reconciler.js';
import { DRIFT_REASON_PREFIX } from '../controller/drift.js';
import type { ClusterFacts } from '../config/facts.js';
import type { FactsSource } from '../facts/source.js';
import type { KubeClient } from '../kube/client.js';
import type { RestMapper } from '../kube/discovery.js';
import { JSON_ONLY, type Logger } from '../observe/logger.js';
import type { OperatorMetrics } from '../observe/metrics.js';
import type { Renderer } from '../render/renderer.js';
import type { AfterApplyResult } from './after-apply.js';
import { isCrd } from '../kube/apply.js';
import { applyWouldChange } from '../kube/compare.js';
import { Fingerprints } from '../kube/fingerprints.js';
import { identity, readLiveObjects, type LiveObjects } from '../kube/live-objects.js';
import { hasOriginalFields } from '../kube/takeover-dry-run.js';
import {
  applyCrdsFirst,
  ApplyError,
  applyPlan,
  type ApplyPlanContext,
  type PlannedObject,
  type RoleOutcome,
} from './apply-plan.js';
import { describeDryRunProblems, dryRunObjects } from './dry-run.js';
import { makePlan, PlanError, type Plan } from './plan.js';
import {
  failedConditions,
  findingConditions,
  startedConditions,
  succeededConditions,
  summary,
  type RunReport,
} from './report.js';
import { ROLES, type Role } from './roles.js';
import type { StatusWriter } from './status.js';

export const FIELD_MANAGER = 'ks-installer';

export interface InstallerDeps {
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

interface RunOptions {
  /**
   * A periodic drift check: when the object already shows a successful run of this spec, the run
   * writes no progress and posts no RunStarted Event, and leaves the status and Events alone unless it
   * corrected drift or the warnings changed. Every status write bumps metadata.generation (there is
   * no status subresource), so a loud resync would rewrite the object many times an hour.
   */
  quiet?: boolean;
  /** Queued only to retry a failed run (the controller's retry reasons). */
  retry?: boolean;
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

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** The least time between a run's first status write and its one progress write. */
const PROGRESS_INTERVAL_MS = 1000;

export class Installer implements Reconciler {
  private readonly roles: readonly Role[];
  /** The reason and message of the last run's failure, and whether the status shows it; unset after a success. */
  private lastFailure: { signature: string; written: boolean } | undefined;
  /** Live objects found equal to ours: later runs read their metadata only (fingerprints.ts). */
  private readonly fingerprints = new Fingerprints();
  /** The last plan and the hash of the spec and facts it was made from. */
  private lastPlan: { key: string; plan: Plan } | undefined;
  /** Whether a run of this process got through its apply and after-apply steps. */
  private succeededOnce = false;

  constructor(private readonly deps: InstallerDeps) {
    this.roles = deps.roles ?? ROLES;
  }

  /** Runs for the cached object of `key`; a run queued only by the resync is a quiet drift check. */
  async reconcile(key: string, reasons: string[]): Promise<ReconcileResult> {
    const entry = this.deps.cache.get(key);
    if (!entry) return {};
    const report = await this.run(entry.object, entry.hash, reasons.join('; '), {
      quiet: reasons.every(
        (r) => r === RESYNC_REASON || r === CHECK_AGAIN_REASON || r.startsWith(DRIFT_REASON_PREFIX),
      ),
      retry: reasons.every((r) => r.startsWith(RETRY_REASON_PREFIX)),
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
    // Conditions come from the latest object (re-read, else our own last write), never from a cache
    // that may predate the previous run's own failure write.
    const current = await status.latest(cc);
    const quiet = options.quiet === true && settled(current, hash);
    // A retry of a run that failed writes nothing at its start: a run failing the same way again
    // then writes nothing at all (see fail), so an outage or a persistent error does not churn the object.
    const retry = this.lastFailure !== undefined && options.retry === true;
    const before: Condition[] = current.status?.conditions ?? [];
    let conditions = before;
    logger.info(`run started: ${trigger}`, { generation, [JSON_ONLY]: { trigger, specHash: hash, quiet } });
    let wrote = false;
    if (!quiet && !retry) {
      conditions = startedConditions(conditions, trigger, generation);
      const written = await status.patch({ conditions, progress: `0/${this.roles.length} starting` });
      conditions = written?.status?.conditions ?? conditions;
      wrote = true;
      await status.event(cc, 'Normal', 'RunStarted', `monitoring run started (${trigger})`);
    }

    const at = { index: 0, role: 'facts' };
    const progress = { lastWriteAt: wrote ? performance.now() : -Infinity, written: false, quiet };
    let report: RunReport;
    try {
      const { plan, facts } = await this.plan(cc);
      at.role = 'compare';
      const { objects, live } = await this.compare(plan);
      at.role = 'dry-run';
      await this.check(objects, live, cc, facts);
      at.role = 'apply';
      const roles = await this.apply(plan, objects, progress, at);
      at.role = 'after-apply';
      const after = await this.afterApply(cc, plan, roles, objects);
      report = {
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
      if (err instanceof ApplyError) Object.assign(at, { index: err.roleIndex, role: err.role });
      return this.fail(
        current,
        err instanceof ApplyError ? err.cause : err,
        conditions,
        generation,
        at,
        wrote || progress.written,
      );
    }
    this.lastFailure = undefined;
    this.succeededOnce = true;
    await this.report(current, hash, report, conditions, before, quiet);
    return report;
  }

  /** Facts, then the plan: values and rendered objects of every role. Writes nothing. */
  private async plan(cc: ClusterConfiguration): Promise<{ plan: Plan; facts: ClusterFacts }> {
    const { logger } = this.deps;
    const factsStarted = performance.now();
    const facts = await this.deps.facts.gather();
    logger.info(
      `facts: ${facts.nodeCount} nodes, Kubernetes ${facts.kubernetesVersion} in ${seconds(performance.now() - factsStarted)}s`,
      { [JSON_ONLY]: { nodes: facts.nodeCount, kubernetesVersion: facts.kubernetesVersion } },
    );
    const planStarted = performance.now();
    // A plan is a pure function of the spec and the facts: the same inputs as the last run's reuse its plan.
    const key = createHash('sha256')
      .update(JSON.stringify([cc.spec ?? {}, facts]))
      .digest('hex');
    const reused = this.lastPlan?.key === key;
    const plan = reused
      ? this.lastPlan!.plan
      : await makePlan(cc.spec ?? {}, facts, {
          renderer: this.deps.renderer,
          crdsRoot: this.deps.crdsRoot,
          roles: this.roles,
          validate: false,
        });
    this.lastPlan = { key, plan };
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

  /**
   * Reads the live objects of the plan (a list per kind, live-objects.ts) and decides for each whether
   * an apply would change it (compare.ts): only those are checked and sent.
   */
  private async compare(plan: Plan): Promise<{ objects: PlannedObject[]; live: LiveObjects }> {
    const started = performance.now();
    const items = plan.roles
      .filter((rp) => !rp.skip)
      .flatMap((rp) => rp.manifests.map((m) => ({ role: rp.role.name, source: m.source, object: m.object })));
    const live = await readLiveObjects(
      this.deps.client,
      this.deps.mapper,
      items.map((x) => x.object),
      { fingerprints: this.fingerprints },
    );
    const objects = items.map<PlannedObject>((x) => {
      const found = live.objects.get(identity(x.object));
      return {
        ...x,
        live: found,
        change: found ? applyWouldChange(x.object, found, FIELD_MANAGER) : 'absent',
      };
    });
    for (const o of objects) {
      if (o.live && !o.change) this.fingerprints.remember(o.object, o.live);
      else this.fingerprints.forget(o.object);
    }
    const absent = objects.filter((o) => !o.live).length;
    const differ = objects.filter((o) => o.live && o.change).length;
    this.deps.logger.info(
      `compare: ${objects.length} objects with the live ones (${live.requests} requests) in ${seconds(performance.now() - started)}s: ${absent} to create, ${differ} to change, ${objects.length - absent - differ} unchanged`,
      { [JSON_ONLY]: { objects: objects.length, requests: live.requests, create: absent, change: differ } },
    );
    for (const o of objects)
      if (o.live && o.change)
        this.deps.logger.debug(`${o.object.kind} ${o.object.metadata.name}: ${o.change}`, { role: o.role });
    return { objects, live };
  }

  /**
   * Checks what a run sends on the API server before its first write (a server-side dry run): a
   * refused object fails the run with nothing written, naming the object and field.
   * - A run that changes objects that exist dry-runs everything it sends.
   * - A run that only creates objects (a first install, deleted objects put back) dry-runs those that
   *   carry a value of the ClusterConfiguration or of the live cluster: the ones that differ from the
   *   plan of an empty spec without live carry-over, with the same facts. The others are the defaults
   *   rendering, which the tests apply on a real API server. So a first install costs one request per
   *   object, not two.
   * - A custom resource to check whose CRD is not served yet gets its CRD applied first (CRDs hold no
   *   user value), then is dry-run like the rest.
   * - CRDs are not dry-run (see dry-run.ts), except those with the original installer's fields.
   * The API server is the one validator of a run: the client-side models (validate.ts) serve `render`,
   * which has no server, and would cost the process 35 MiB for good once loaded.
   */
  private async check(
    objects: PlannedObject[],
    live: LiveObjects,
    cc: ClusterConfiguration,
    facts: ClusterFacts,
  ): Promise<void> {
    const started = performance.now();
    const sent = objects.filter(
      (o) => o.change && (!isCrd(o.object) || (o.live && hasOriginalFields(o.live))),
    );
    const updates = sent.some((o) => o.live);
    const defaults = updates || sent.length === 0 ? undefined : await this.defaultsRendering(facts);
    const items = defaults
      ? sent.filter((o) => defaults.get(identity(o.object)) !== JSON.stringify(o.object))
      : sent;
    if (items.length === 0) return;
    const unservedKind = (o: PlannedObject) => live.unserved.has(`${o.object.apiVersion} ${o.object.kind}`);
    const waiting = items.filter(unservedKind);
    if (waiting.length > 0) {
      const crds = await applyCrdsFirst(objects, waiting, this.applyContext());
      this.deps.logger.info(
        `dry run: ${crds} CRDs applied first, for ${waiting.length} custom resources to check that carry values of the spec`,
      );
      for (const o of waiting) live.unserved.delete(`${o.object.apiVersion} ${o.object.kind}`);
    }
    const result = await dryRunObjects(items, {
      client: this.deps.client,
      mapper: this.deps.mapper,
      fieldManager: FIELD_MANAGER,
      fallbackNamespace: cc.metadata.namespace ?? 'default',
      concurrency: this.deps.concurrency,
      missingNamespaces: live.missingNamespaces,
      unserved: live.unserved,
    });
    const unserved = result.unserved.length
      ? `; ${result.unserved.length} custom resources not checked (their kind is not served)`
      : '';
    this.deps.logger.info(
      `dry run: ${result.checked} objects checked by the API server in ${seconds(performance.now() - started)}s${unserved}`,
      {
        [JSON_ONLY]: {
          checked: result.checked,
          unserved: result.unserved.length,
          refused: result.problems.length,
        },
      },
    );
    if (result.problems.length > 0) {
      throw new PlanError('RefusedByApiServer', describeDryRunProblems(result.problems));
    }
  }

  private applyContext(): ApplyPlanContext {
    return {
      client: this.deps.client,
      mapper: this.deps.mapper,
      logger: this.deps.logger,
      fieldManager: FIELD_MANAGER,
      concurrency: this.deps.concurrency,
    };
  }

  /** The objects of an empty spec's plan with these facts, less live carry-over: identity → JSON. */
  private async defaultsRendering(facts: ClusterFacts): Promise<Map<string, string>> {
    const plan = await makePlan(
      {},
      { ...facts, live: { etcdClientCertsSecret: facts.live.etcdClientCertsSecret } },
      { renderer: this.deps.renderer, crdsRoot: this.deps.crdsRoot, roles: this.roles, validate: false },
    ).catch(() => undefined);
    if (!plan) return new Map();
    return new Map(
      plan.roles.flatMap((rp) => rp.manifests).map((m) => [identity(m.object), JSON.stringify(m.object)]),
    );
  }

  /**
   * Applies what differs, pipelined (apply-plan.ts). Progress goes on the status at most once a run,
   * at a role boundary a second or more after the run's first write: with the start and the end, a run
   * writes the object at most three times (each write bumps metadata.generation: no status subresource).
   */
  private apply(
    plan: Plan,
    objects: PlannedObject[],
    progress: { lastWriteAt: number; written: boolean; quiet: boolean },
    at: { index: number; role: string },
  ): Promise<RoleOutcome[]> {
    const { metrics } = this.deps;
    return applyPlan(plan, objects, {
      ...this.applyContext(),
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
        if (progress.quiet || progress.written || done === total) return;
        if (performance.now() - progress.lastWriteAt < PROGRESS_INTERVAL_MS) return;
        progress.written = true;
        progress.lastWriteAt = performance.now();
        await this.deps.status.patch({ progress: `${done}/${total} ${o.name} applied` });
      },
    });
  }

  /** Each applied role's after-apply steps, in role order; their results merged. */
  private async afterApply(
    cc: ClusterConfiguration,
    plan: Plan,
    roles: RoleOutcome[],
    objects: PlannedObject[],
  ): Promise<AfterApplyResult> {
    const merged: AfterApplyResult = { warnings: [], changed: 0 };
    for (const rp of plan.roles) {
      if (rp.skip || !roles.some((r) => r.name === rp.role.name && !r.skipped)) continue;
      for (const step of rp.role.afterApply ?? []) {
        const r = await step({
          client: this.deps.client,
          plan,
          logger: this.deps.logger,
          objects: objects.filter((o) => o.role === rp.role.name),
          firstRun: !this.succeededOnce,
          event: (type, reason, message) => this.deps.status.event(cc, type, reason, message),
        });
        merged.warnings.push(...r.warnings);
        merged.changed += r.changed;
        if (r.enabled) merged.enabled = [...(merged.enabled ?? []), ...r.enabled];
        if (r.requeueAfterMs !== undefined)
          merged.requeueAfterMs = Math.min(merged.requeueAfterMs ?? Infinity, r.requeueAfterMs);
      }
    }
    return merged;
  }

  /** Puts a successful run on the object: conditions, status.monitoring, progress, an Event and the log. */
  private async report(
    cc: ClusterConfiguration,
    hash: string,
    report: RunReport,
    conditions: Condition[],
    before: Condition[],
    quiet: boolean,
  ): Promise<void> {
    const { logger, status } = this.deps;
    const line = summary(report);
    const figures = {
      objects: report.objects,
      changed: report.changed,
      durationSeconds: Number((report.durationMs / 1000).toFixed(3)),
    };
    const generation = cc.metadata.generation;
    // Parts found working for the first time: {status: enabled, enabledTime}, kept while their role
    // runs; the key of a role turned off goes (null in a merge patch removes it).
    const enabled: Record<string, unknown> = {};
    for (const key of report.enabled ?? []) {
      const current = cc.status?.[key] as { status?: string } | null | undefined;
      if (current?.status !== 'enabled') enabled[key] = { status: 'enabled', enabledTime: rfc3339() };
    }
    for (const rp of report.plan.roles) {
      const key = rp.role.statusKey;
      if (rp.skip && key && cc.status?.[key] != null) enabled[key] = null;
    }
    if (
      quiet &&
      report.changed === 0 &&
      Object.keys(enabled).length === 0 &&
      sameConditions(before, findingConditions(conditions, report, generation))
    ) {
      logger.info(`run succeeded: ${line}; no drift, status left as it was`, { [JSON_ONLY]: figures });
      return;
    }
    const monitoring =
      cc.status?.monitoring?.status === 'enabled'
        ? cc.status.monitoring
        : { status: 'enabled', enabledTime: rfc3339() };
    await status.patch({
      monitoring,
      ...enabled,
      conditions: succeededConditions(conditions, report, generation),
      progress: `${report.roles.length}/${report.roles.length} done`,
      observedSpecHash: hash,
    });
    await status.event(cc, 'Normal', 'RunSucceeded', line);
    logger.info(`run succeeded: ${line}`, { [JSON_ONLY]: figures });
  }

  private async fail(
    cc: ClusterConfiguration,
    err: unknown,
    conditions: Condition[],
    generation: number | undefined,
    at: { index: number; role: string },
    wroteThisRun: boolean,
  ): Promise<never> {
    const { logger, status } = this.deps;
    const reason = err instanceof PlanError ? err.reason : 'ApplyFailed';
    const message = (err as Error).message;
    const signature = `${reason}\n${message}`;
    const last = this.lastFailure;
    // The same failure as the last run's, already on the object, and nothing written since: write nothing.
    const unchanged = !wroteThisRun && last?.signature === signature && last.written;
    if (unchanged) {
      logger.error(`run failed at ${at.role}: ${reason} (as the last run; status left as it was)`, {
        reason,
        role: at.role,
        err: message,
      });
    } else {
      const written = await status.patch({
        conditions: failedConditions(conditions, reason, message, generation),
        progress: `${at.index + 1}/${this.roles.length} ${at.role} failed`,
      });
      this.lastFailure = { signature, written: written !== undefined };
      await status.event(cc, 'Warning', reason, message);
      logger.error(`run failed at ${at.role}: ${reason}`, { reason, role: at.role, err: message });
    }
    const terminal = reason === 'InvalidSpec' || reason === 'RefusedByApiServer';
    throw terminal ? new TerminalError(message) : new Error(`${reason}: ${message}`, { cause: err });
  }
}
