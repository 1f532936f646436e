/**
 * Applies what a plan changes, pipelined across roles: only the objects an apply would change (the
 * run compared them with the live ones, src/kube/compare.ts), as soon as what they need is there —
 * CRDs first and at once, a namespaced object once its namespace is applied, a custom resource once
 * its own CRD is Established (learnt from one watch, crd.ts), everything else straight away — with
 * one bound on the requests in flight. One line per role is logged when its last object is done,
 * with counts and duration.
 *
 * An object the API server refuses (400, 413, 422) stops the apply: nothing more is sent, and the run
 * fails naming it, as a dry-run refusal does. What a run sends was dry-run before wherever it carries a
 * value of the user or the live cluster (check.ts), so this is the rare case of a custom
 * resource whose CRD was not served yet at the dry run. Any other failure stops it too and is retried.
 */
import { applyAt } from '../../kube/apply.js';
import { ApiError, type KubeClient, type KubeObject } from '../../kube/client.js';
import { CrdEstablishment, type EstablishOptions } from '../../kube/crd.js';
import type { RestMapper } from '../../kube/discovery.js';
import { MANAGED_BY_SELECTOR } from '../../kube/live-objects.js';
import {
  applyStage,
  crdKind,
  describeObject,
  groupKind,
  isCrd,
  isEstablished,
  isNamespace,
} from '../../kube/object-ref.js';
import { JSON_ONLY, type Logger } from '../../observe/logger.js';
import { FRESH_KIND_404 } from '../../reconcile/backoff.js';
import { RunError } from '../../reconcile/contract.js';
import { DEFAULT_CONCURRENCY, semaphore } from '../../util/concurrency.js';
import { sleep } from '../../util/sleep.js';
import type { Plan, PlannedObject, RoleOutcome } from '../model.js';
import { describeDryRunProblems, refusalOf, type DryRunProblem } from './dry-run.js';

export interface ApplyPlanContext {
  client: KubeClient;
  mapper: RestMapper;
  logger: Logger;
  fieldManager: string;
  /** Requests in flight at most. */
  concurrency?: number;
  /** Stops sending (and waiting for CRDs) once aborted: the run is cancelled. */
  signal?: AbortSignal;
  /** Timeout and nudge delay of the CRD wait (the nudge itself is logged as a warning). */
  establish?: Omit<EstablishOptions, 'onNudge'>;
  /** Called with each object as the API server stored it (a CRD once it is Established too). */
  onApplied?: (p: PlannedObject, stored: KubeObject, established: boolean) => void;
  /** Called as each role's last object is done, with how many roles are done. */
  onRoleDone?: (outcome: RoleOutcome, done: number, total: number) => Promise<void> | void;
}

/** An apply failure, with the role of the object that failed. */
export class ApplyError extends Error {
  constructor(
    readonly role: string,
    readonly roleIndex: number,
    cause: unknown,
  ) {
    super((cause as Error).message, { cause });
  }
}

function describeOutcome(o: RoleOutcome): string {
  if (o.skipped) return `skipped: ${o.skipped}`;
  const changed = o.created + o.changed;
  return `${o.objects} objects (${changed} changed, ${o.unchanged} unchanged) in ${(o.durationMs / 1000).toFixed(2)}s`;
}

export async function applyPlan(
  plan: Plan,
  objects: readonly PlannedObject[],
  ctx: ApplyPlanContext,
): Promise<RoleOutcome[]> {
  const started = performance.now();
  const total = plan.roles.length;
  const outcomes = plan.roles.map<RoleOutcome>((rp) => ({
    name: rp.role.name,
    ...(rp.skip ? { skipped: rp.skip } : {}),
    objects: 0,
    created: 0,
    changed: 0,
    unchanged: 0,
    durationMs: 0,
  }));
  const roleIndex = new Map(plan.roles.map((rp, i) => [rp.role.name, i]));
  const pending = outcomes.map(() => 0);
  for (const p of objects) {
    const i = roleIndex.get(p.role)!;
    outcomes[i]!.objects++;
    if (p.applied) outcomes[i]![p.applied]++;
    else if (p.change === undefined) outcomes[i]!.unchanged++;
    else pending[i]!++;
  }
  let done = 0;
  const finish = async (i: number) => {
    const o = outcomes[i]!;
    o.durationMs = o.skipped ? 0 : performance.now() - started;
    ctx.logger.info(`[${i + 1}/${total}] ${o.name}: ${describeOutcome(o)}`, {
      [JSON_ONLY]: {
        role: o.name,
        objects: o.objects,
        changed: o.created + o.changed,
        unchanged: o.unchanged,
        durationSeconds: Number((o.durationMs / 1000).toFixed(3)),
      },
    });
    done++;
    await ctx.onRoleDone?.(o, done, total);
  };
  // Roles with nothing to send are done at once, in role order.
  for (const [i] of outcomes.entries()) if (pending[i] === 0) await finish(i);
  const writes = objects.filter((p) => p.change !== undefined && !p.applied);
  if (writes.length === 0) return outcomes;

  const establishment = new CrdEstablishment(ctx.client, MANAGED_BY_SELECTOR, {
    ...ctx.establish,
    onNudge: (name, stuckMs) =>
      ctx.logger.warn(
        `CRD ${name} still not Established after ${(stuckMs / 1000).toFixed(1)}s (names accepted): nudged with an annotation update`,
        { crd: name },
      ),
  });
  const slots = semaphore(ctx.concurrency ?? DEFAULT_CONCURRENCY);
  let stop = false;
  const cancel = () => {
    stop = true;
    void establishment.stop();
  };
  ctx.signal?.addEventListener('abort', cancel, { once: true });
  const problems: DryRunProblem[] = [];
  const failures: ApplyError[] = [];

  // What each object waits for: its namespace's apply, its CRD's apply and establishment.
  const crdsByKind = new Map(objects.filter((p) => isCrd(p.object)).map((p) => [crdKind(p.object), p]));
  const ready = new Map<PlannedObject, Promise<boolean>>();
  const nsReady = new Map<string, Promise<boolean>>();
  const crdReady = new Map<string, Promise<boolean>>();

  /** The object as stored, by planned object: what send() got back. */
  const stored = new Map<PlannedObject, KubeObject>();
  const send = async (p: PlannedObject): Promise<boolean> => {
    await slots.acquire();
    try {
      if (stop) return false;
      const path = await ctx.mapper.objectPath(p.object);
      const learnt = ctx.mapper.isLearnt(p.object.apiVersion, p.object.kind);
      for (let attempt = 0; ; attempt++) {
        try {
          const { object, result } = await applyAt(ctx.client, path, p.object, p.live, {
            fieldManager: ctx.fieldManager,
            force: true,
          });
          outcomes[roleIndex.get(p.role)!]![result]++;
          stored.set(p, object);
          if (!isCrd(p.object)) ctx.onApplied?.(p, object, false);
          return true;
        } catch (err) {
          // A custom resource right after its CRD is Established may meet a handler not serving it yet.
          if (
            learnt &&
            err instanceof ApiError &&
            err.notFound &&
            attempt < FRESH_KIND_404.attempts &&
            !stop
          ) {
            await sleep(FRESH_KIND_404.delayMs);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      stop = true;
      const refusal = refusalOf(err);
      if (refusal) problems.push({ role: p.role, object: describeObject(p.object), ...refusal });
      else failures.push(new ApplyError(p.role, roleIndex.get(p.role)!, err));
      return false;
    } finally {
      slots.release();
    }
  };

  const start = (p: PlannedObject): Promise<boolean> => {
    let promise = ready.get(p);
    if (promise) return promise;
    promise = (async () => {
      if (isCrd(p.object)) {
        if (!(await send(p))) return false;
        if (!isEstablished(p.live)) await establishment.wait(p.object.metadata.name);
        ctx.onApplied?.(p, stored.get(p)!, true);
        return true;
      }
      const ns = p.object.metadata.namespace;
      if (ns && nsReady.has(ns) && !(await nsReady.get(ns))) return false;
      const crd = crdsByKind.get(groupKind(p.object));
      if (crd?.applied) {
        // Applied and Established ahead of the rest (applyCrdsFirst).
      } else if (crd && crdReady.has(crd.object.metadata.name)) {
        if (!(await crdReady.get(crd.object.metadata.name))) return false;
      } else if (crd && !isEstablished(crd.live)) {
        await establishment.wait(crd.object.metadata.name);
      }
      return send(p);
    })().catch((err: unknown) => {
      stop = true;
      failures.push(new ApplyError(p.role, roleIndex.get(p.role)!, err));
      return false;
    });
    ready.set(p, promise);
    return promise;
  };

  // Started in the apply order (object-ref.ts applyStage: namespaces, CRDs, the rest); CRDs by how many
  // objects of the plan wait for them (most first): those nothing waits for go last.
  const waitingOn = (crd: PlannedObject) =>
    writes.filter((p) => groupKind(p.object) === crdKind(crd.object)).length;
  const ordered = [0, 1, 2].flatMap((stage) => {
    const items = writes.filter((p) => applyStage(p.object) === stage);
    return stage === 1 ? items.sort((a, b) => waitingOn(b) - waitingOn(a)) : items;
  });
  for (const p of ordered) {
    const promise = start(p);
    if (isCrd(p.object)) crdReady.set(p.object.metadata.name, promise);
    if (isNamespace(p.object)) nsReady.set(p.object.metadata.name, promise);
  }
  try {
    await Promise.all(
      writes.map(async (p) => {
        await start(p);
        const i = roleIndex.get(p.role)!;
        if (--pending[i]! === 0 && !stop) await finish(i);
      }),
    );
  } finally {
    ctx.signal?.removeEventListener('abort', cancel);
    await establishment.stop();
  }

  if (problems.length > 0) {
    throw new RunError('RefusedByApiServer', describeDryRunProblems(problems, 'apply'));
  }
  if (failures.length > 0) throw failures[0];
  return outcomes;
}

/**
 * Applies the CRDs of the given custom resources ahead of everything else and waits until they are
 * Established, so that those custom resources can be dry-run before the rest is sent (the installer's
 * check, check.ts). Marks each CRD sent as applied; returns how many were sent.
 */
export async function applyCrdsFirst(
  objects: readonly PlannedObject[],
  resources: readonly PlannedObject[],
  ctx: ApplyPlanContext,
): Promise<number> {
  const kinds = new Set(resources.map((p) => groupKind(p.object)));
  const crds = objects.filter(
    (p) => isCrd(p.object) && p.change && !p.applied && kinds.has(crdKind(p.object)),
  );
  const establishment = new CrdEstablishment(ctx.client, MANAGED_BY_SELECTOR, ctx.establish);
  try {
    await Promise.all(
      crds.map(async (p) => {
        const path = await ctx.mapper.objectPath(p.object);
        const { result } = await applyAt(ctx.client, path, p.object, p.live, {
          fieldManager: ctx.fieldManager,
          force: true,
        });
        p.applied = result;
        await establishment.wait(p.object.metadata.name);
      }),
    );
  } finally {
    await establishment.stop();
  }
  return crds.length;
}
