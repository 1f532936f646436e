/**
 * The installer's vocabulary, types only: a role (data), a plan (what each role renders), a planned
 * object (what a run knows of one object), what an apply did per role, what after-apply steps see and
 * return, and what a successful run reports. Every stage imports this file; it imports nothing of
 * the installer, so the stages depend one way (docs/architecture.md):
 * model ← plan ← sync ← steps ← catalog ← report ← run.
 */
import type { MonitoringValues, ValueWarning } from '../config/values.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';

/** Whether a role runs with these values, and why not. */
export type RoleCondition = (values: MonitoringValues) => { run: true } | { run: false; reason: string };

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
  /** Folder under templates/. */
  templates: string;
  /** Folders under crds/ whose CustomResourceDefinitions this role applies before its templates. */
  crds: string[];
  /** CRDs of `crds` whose versions the role's own webhook converts (stanza set at plan time). */
  conversionWebhook?: ConversionWebhook;
  /** Steps run after every role applied its objects, in role order (steps/). */
  afterApply?: AfterApplyStep[];
}

/** One object a role renders, with where it comes from. */
export interface ManifestSource {
  /** `crds/<folder>/<file>`, `templates/<folder>/<file>` or `alerts/<group>` (src/alerts). */
  source: string;
  object: KubeObject;
}

export interface RolePlan {
  role: Role;
  /** Set when the role's condition is false. */
  skip?: string;
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
  /** Where it comes from (plan/role-objects.ts): `crds/…`, `templates/…` or `alerts/…`. */
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
}

/**
 * What a role does after every role has applied its objects: a step that reads or changes the cluster
 * beyond server-side apply. It never throws for a state the user can fix.
 */
export type AfterApplyStep = (ctx: AfterApplyContext) => Promise<AfterApplyResult>;

/** What a successful run did. */
export interface RunReport {
  plan: Plan;
  roles: RoleOutcome[];
  warnings: ValueWarning[];
  /** Objects created, changed or deleted, by apply and after-apply steps. */
  changed: number;
  objects: number;
  durationMs: number;
  /** Set when a step wants the run looked at again (e.g. a volume still expanding). */
  requeueAfterMs?: number;
}
