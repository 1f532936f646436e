/**
 * What a run writes on the ClusterConfiguration itself: status.monitoring (the original's shape),
 * Kubernetes-style conditions, a progress string for the printer column, the hash of the spec the
 * run reconciled, and Events. The CRD has no status subresource (compatibility), so status is
 * merge-patched on the main resource; the controller ignores these writes (it compares spec hashes).
 */
import { createHash } from 'node:crypto';
import { CONTENT_TYPE, type KubeClient, type KubeObject } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';

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
    conditions?: Condition[];
    progress?: string;
    observedSpecHash?: string;
    [key: string]: unknown;
  };
}

/** A stable hash of .spec (keys sorted), as shell-operator's jqFilter `.spec` compares it. */
export function specHash(spec: unknown): string {
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
    .update(JSON.stringify(canonical(spec ?? {})))
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

export interface StatusTarget {
  namespace: string;
  name: string;
}

export class StatusWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly target: StatusTarget,
    private readonly logger: Logger,
    private readonly reportingInstance: string,
  ) {}

  private get path(): string {
    return `/apis/installer.kubesphere.io/v1alpha1/namespaces/${this.target.namespace}/clusterconfigurations/${this.target.name}`;
  }

  async read(): Promise<ClusterConfiguration | undefined> {
    return this.client.getOrUndefined<ClusterConfiguration>(this.path);
  }

  /** Merge-patches status; a failure is logged, never thrown (status is best effort, the run's result is not). */
  async patch(
    status: NonNullable<ClusterConfiguration['status']>,
  ): Promise<ClusterConfiguration | undefined> {
    try {
      return await this.client.request<ClusterConfiguration>('PATCH', this.path, {
        body: { status },
        contentType: CONTENT_TYPE.merge,
      });
    } catch (err) {
      this.logger.warn('could not update the ClusterConfiguration status', { err: (err as Error).message });
      return undefined;
    }
  }

  /** Posts a core/v1 Event about the ClusterConfiguration (best effort). */
  async event(
    cc: ClusterConfiguration,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = rfc3339();
    try {
      await this.client.request('POST', `/api/v1/namespaces/${this.target.namespace}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${this.target.name}.`, namespace: this.target.namespace },
          involvedObject: {
            apiVersion: cc.apiVersion,
            kind: cc.kind,
            name: cc.metadata.name,
            namespace: cc.metadata.namespace,
            uid: cc.metadata.uid,
            resourceVersion: cc.metadata.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'ks-installer' },
          reportingComponent: 'ks-installer',
          reportingInstance: this.reportingInstance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      this.logger.warn('could not post an Event', { reason, err: (err as Error).message });
    }
  }
}
