/**
 * The ClusterConfiguration as the operator sees it: its API coordinates and paths, its type (the
 * spec is free-form, the status is what the operator writes), the hash that decides whether a spec
 * was already reconciled, and Kubernetes-style conditions.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/client.js';

export const GROUP = 'installer.kubesphere.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ClusterConfiguration';
const RESOURCE = 'clusterconfigurations';
const SHORT_NAME = 'cc';

/** The namespace and name of one ClusterConfiguration; its queue key is `namespace/name`. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export function keyOf(target: ObjectKey): string {
  return `${target.namespace}/${target.name}`;
}

export function collectionPath(namespace: string): string {
  return `/apis/${API_VERSION}/namespaces/${namespace}/${RESOURCE}`;
}

export function objectPath(target: ObjectKey): string {
  return `${collectionPath(target.namespace)}/${target.name}`;
}

/** True when `kind` names ClusterConfiguration the way shell-operator accepts it (kind, plural, short name). */
export function isClusterConfigurationKind(kind: string): boolean {
  return [KIND.toLowerCase(), RESOURCE, SHORT_NAME].includes(kind.toLowerCase());
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ClusterConfiguration extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    monitoring?: { status?: string; enabledTime?: string } | null;
    /** Set while the alerting module is applied (src/installer/report/alerting-state.ts). */
    alerting?: { status?: string; enabledTime?: string } | null;
    conditions?: Condition[];
    progress?: string;
    observedSpecHash?: string;
    [key: string]: unknown;
  };
}

/** A stable hash of a value (keys sorted), as shell-operator compares a jqFilter's selection. */
export function specHash(selection: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(selection ?? {})))
    .digest('hex')
    .slice(0, 16);
}

export function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Sets a condition in a list, keeping lastTransitionTime when the status does not change. */
export function setCondition(
  list: Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now = new Date(),
): Condition[] {
  const prev = list.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : rfc3339(now);
  const merged: Condition = { ...next, lastTransitionTime };
  return prev ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

/** Whether a condition of this type has this status. */
export function hasCondition(cc: ClusterConfiguration, type: string, status: Condition['status']): boolean {
  return cc.status?.conditions?.some((c) => c.type === type && c.status === status) ?? false;
}
