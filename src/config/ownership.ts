/**
 * The product's identity on the cluster, declared once: the field manager of every apply, the label
 * every object we apply carries (and the selector that finds them), the role label beside it, the
 * component named on our Events, the Lease of leader election and the field manager of the CRD nudge.
 * `src/kube/` never imports this: it takes selectors and managers as parameters.
 */

export const PRODUCT = 'ks-installer';

/** The field manager of every server-side apply, dry run and delete precondition of a run. */
export const FIELD_MANAGER = PRODUCT;

/** The label the renderer stamps on every object a role renders (docs/install.md, "Ownership"). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = PRODUCT;
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** The label naming the role that rendered an object: a turned-off role's objects are found by it. */
export const ROLE_LABEL = 'installer.kubesphere.io/role';

/** The labels of an object rendered by `role`. */
export function ownershipLabels(role: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [ROLE_LABEL]: role };
}

/** Our objects of one role. */
export function roleSelector(role: string): string {
  return `${MANAGED_BY_SELECTOR},${ROLE_LABEL}=${role}`;
}

/** `source.component` and `reportingComponent` of the Events posted about the ClusterConfiguration. */
export const EVENT_COMPONENT = PRODUCT;

/** The Lease held by the leader when leader election is on. */
export const LEASE_NAME = PRODUCT;

/** The field manager of the annotation bump that nudges a CRD stuck before Established. */
export const NUDGE_MANAGER = `${PRODUCT}-establish-nudge`;
