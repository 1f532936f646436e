/**
 * What names an object and what kind of object it is, written once: its identity across versions of its
 * group, `group/Kind`, the kind a CustomResourceDefinition defines, whether it is a CRD or a Namespace,
 * whether a CRD is Established, how logs and conditions name it, and the order a set of objects is
 * applied in. Every other module of kube/ and the installer asks here; this file imports nothing but the
 * object type.
 */
import type { KubeObject } from './client.js';

type TypeMeta = Pick<KubeObject, 'apiVersion' | 'kind'>;

/** The API group of an apiVersion (`''` for the core group). */
const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** Identity of an object across versions of its group: group, kind, namespace, name. */
export function identity(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** `group/Kind` of an object (`/Kind` in the core group). */
export const groupKind = (o: TypeMeta): string => `${groupOf(o.apiVersion)}/${o.kind}`;

/** `group/Kind` of the custom resources a CustomResourceDefinition defines. */
export function crdKind(crd: KubeObject): string {
  const spec = (crd as unknown as { spec: { group: string; names: { kind: string } } }).spec;
  return `${spec.group}/${spec.names.kind}`;
}

export const isCrd = (o: TypeMeta): boolean =>
  o.kind === 'CustomResourceDefinition' && o.apiVersion.startsWith('apiextensions.k8s.io/');

export const isNamespace = (o: TypeMeta): boolean => o.kind === 'Namespace' && o.apiVersion === 'v1';

/** A condition as the API server reports it on an object's status. */
interface ObjectCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Anything that may carry status.conditions (a live CRD, or a partial read of one). */
export interface WithConditions {
  status?: { conditions?: ObjectCondition[] };
}

/** The condition of this type on the object's status, if it reports one. */
export function conditionOf(o: object | undefined, type: string): ObjectCondition | undefined {
  return (o as WithConditions | undefined)?.status?.conditions?.find((c) => c.type === type);
}

/** Whether a live CustomResourceDefinition is Established: its kind is served. */
export const isEstablished = (crd: object | undefined): boolean =>
  conditionOf(crd, 'Established')?.status === 'True';

/** `Kind namespace/name` (`Kind name` when cluster-scoped): how logs, Events and conditions name an object. */
export function describeObject(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const name = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
  return `${o.kind} ${name}`;
}

/**
 * The one apply order, as a stage per object: namespaces first (small, and most objects wait for them),
 * then CRDs (the largest, and what custom resources wait for), then everything else.
 */
export function applyStage(o: TypeMeta): 0 | 1 | 2 {
  return isNamespace(o) ? 0 : isCrd(o) ? 1 : 2;
}
