/**
 * The installer's vocabulary, types only: a role (data), a plan (what each role renders), a planned
 * object (what a run knows of one object), what an apply did per role, what after-apply steps see and
 * return, and what a successful run reports. Every stage imports this file; it imports nothing of
 * the installer, so the stages depend one way (docs/architecture.md):
 * model ← plan ← sync ← steps ← lifecycle ← catalog ← report ← run.
 */
import type { MonitoringValues, ValueWarning } from '../config/values.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';

/**
 * Whether a role runs with these values, and why not. `remove: true` says the role is turned off, so
 * the objects it applied before go (lifecycle/; the role must declare `removal`); without it a role
 * that does not run leaves its objects as they are (e.g. external monitoring: nothing in the cluster
 * is touched).
 */
export type RoleCondition = (
  values: MonitoringValues,
) => { run: true } | { run: false; reason: string; remove?: boolean };

/** A kind of object a role renders, and where: `namespace` unset for cluster-scoped kinds. */
export interface OwnedKind {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

/** What removing a turned-off role's objects needs to know (lifecycle/). Data of a Role. */
export interface RoleRemoval {
  /**
   * Every kind and namespace the role's objects live in, in the order the role applies them (a unit
   * test checks this against its templates). Its objects are found there by our labels.
   */
  owns: OwnedKind[];
  /** Objects removed before all others, in this order (e.g. an APIService before its Service). */
  first?: { apiVersion: string; kind: string; name: string }[];
  /**
   * Kinds the role renders but leaves when turned off: never listed nor deleted (e.g. Secrets, which
   * the operator reads only by name, and a PersistentVolumeClaim, never removed anyway).
   */
  keeps?: { apiVersion: string; kind: string }[];
}

/** The status keys of parts installed apart from the monitoring stack, `{status: enabled, enabledTime}`. */
export type EnabledStatusKey = 'metricsServer';

/** Which CRDs a role's webhook converts, and where the API server reaches it. Data of a Role. */
export interface ConversionWebhook {
  /** CustomResourceDefinition names, each among the role's crds/ folders. */
  crds: readonly string[];
  /** Service in the monitoring namespace, port 443. */
  service: string;
  path: string;
}

/** One role of the catalog (catalog.ts): data, nothing here talks to the cluster. */
export interface Role {
  name: string;
  when: RoleCondition;
  /** Folder under templates/; none for a role that applies only CRDs. */
  templates?: string;
  /** Folders under crds/ whose CustomResourceDefinitions this role applies before its templates. */
  crds: string[];
  /** CRDs of `crds` whose versions the role's own webhook converts (stanza set at plan time). */
  conversionWebhook?: ConversionWebhook;
  /** Steps run after every role applied its objects, in role order (steps/). */
  afterApply?: AfterApplyStep[];
  /** Set on a role that can be turned off: how its objects are found and removed then (lifecycle/). */
  removal?: RoleRemoval;
  /** The status key its after-apply steps mark enabled; removed from the status while the role is off. */
  statusKey?: EnabledStatusKey;
}

/** One object a role renders, with where it comes from. */
export interface ManifestSource {
  /**
   * `crds/<folder>/<file>`, `templates/<folder>/<file>`, `rules/recording/<PrometheusRule>` or
   * `rules/alerts/<group>.yaml` (rules/catalog.yaml, src/rules).
   */
  source: string;
  object: KubeObject;
}

export interface RolePlan {
  role: Role;
  /** Set when the role's condition is false. */
  skip?: string;
  /** The role is turned off: the objects it applied before are removed (lifecycle/). */
  remove?: boolean;
  manifests: ManifestSource[];
}

/** A run's plan: the values resolved from the spec and the facts, and every role's objects. */
export interface Plan {
  values: MonitoringValues;
  warnings: ValueWarning[];
  roles: RolePlan[];
}

/** One object of the plan with what the run knows of it. */
export interface PlannedObject {
  role: string;
  /** Where it comes from (plan/role-objects.ts): `crds/…`, `templates/…` or `rules/…`. */
  source: string;
  object: KubeObject;
  /** The live object, undefined when it does not exist. */
  live: KubeObject | undefined;
  /** Why an apply would change it; undefined when it would not, and it is not sent. */
  change: string | undefined;
  /** Set when it was applied already this run, ahead of the rest (applyCrdsFirst). */
  applied?: 'created' | 'changed' | 'unchanged';
}

/** What the apply did for one role. */
export interface RoleOutcome {
  name: string;
  skipped?: string;
  objects: number;
  created: number;
  changed: number;
  unchanged: number;
  durationMs: number;
}

/** What an after-apply step sees. */
export interface AfterApplyContext {
  client: KubeClient;
  plan: Plan;
  logger: Logger;
  /** The role's objects, with their live state before this run's apply. */
  objects: readonly PlannedObject[];
  /** Whether this is the process's first run to get this far (a step left undone by a crash is done now). */
  firstRun: boolean;
  /** Posts an Event on the ClusterConfiguration (best effort). */
  event?: (type: 'Normal' | 'Warning', reason: string, message: string) => Promise<void>;
}

/** What an after-apply step did. */
export interface AfterApplyResult {
  warnings: ValueWarning[];
  /** Objects the step created, changed or deleted. */
  changed: number;
  /** Look at the run again after this long (e.g. a volume still expanding). */
  requeueAfterMs?: number;
  /** Status keys the run marks `{status: enabled, enabledTime}` (kept while the role runs). */
  enabled?: EnabledStatusKey[];
}

/**
 * What a role does after every role has applied its objects: a step that reads or changes the cluster
 * beyond server-side apply. It never throws for a state the user can fix.
 */
export type AfterApplyStep = (ctx: AfterApplyContext) => Promise<AfterApplyResult>;

/** What the lifecycle stage removed of one turned-off role (lifecycle/remove-turned-off.ts). */
export interface RemovalOutcome {
  role: string;
  /** Why the role is off (its condition's reason). */
  reason: string;
  /** `Kind ns/name` of each object removed. */
  removed: string[];
  /** `Kind ns/name: why` of each object found by our labels and left in place. */
  kept: string[];
  /** Requests sent. */
  requests: number;
}

/** What a successful run did. */
export interface RunReport {
  plan: Plan;
  roles: RoleOutcome[];
  warnings: ValueWarning[];
  /** Objects created, changed or deleted, by apply, after-apply steps and the lifecycle. */
  changed: number;
  objects: number;
  durationMs: number;
  /** Set when a step wants the run looked at again (e.g. a volume still expanding). */
  requeueAfterMs?: number;
  /** What turned-off roles left and this run removed (lifecycle/). */
  removed?: RemovalOutcome[];
  /** Status keys to mark enabled (a step found the part working). */
  enabled?: EnabledStatusKey[];
}
