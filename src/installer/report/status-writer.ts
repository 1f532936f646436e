/**
 * What a run writes on the ClusterConfiguration itself: status.monitoring (the original's shape),
 * Kubernetes-style conditions, a progress string for the printer column, the hash of the spec the
 * run reconciled, and Events. The CRD has no status subresource (compatibility), so status is
 * merge-patched on the main resource; the controller ignores these writes (it compares spec hashes).
 */
import {
  objectPath,
  rfc3339,
  type ClusterConfiguration,
  type ObjectKey,
} from '../../api/cluster-configuration.js';
import { CONTENT_TYPE, type KubeClient } from '../../kube/client.js';
import type { Logger } from '../../observe/logger.js';

type StatusTarget = ObjectKey;

export class StatusWriter {
  /** The object as our last successful write returned it. */
  private lastWritten: ClusterConfiguration | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly target: StatusTarget,
    private readonly logger: Logger,
    private readonly reportingInstance: string,
  ) {}

  private get path(): string {
    return objectPath(this.target);
  }

  async read(): Promise<ClusterConfiguration | undefined> {
    return this.client.getOrUndefined<ClusterConfiguration>(this.path);
  }

  /**
   * The latest object a run can compute conditions from: re-read; if that fails, our own last write
   * when it is newer than `cached` (the watch's copy, which can be older than our last write).
   */
  async latest(cached: ClusterConfiguration): Promise<ClusterConfiguration> {
    const read = await this.read().catch(() => undefined);
    if (read) return read;
    const written = this.lastWritten;
    return written && newer(written, cached) ? written : cached;
  }

  /** Merge-patches status; a failure is logged, never thrown (status is best effort, the run's result is not). */
  async patch(
    status: NonNullable<ClusterConfiguration['status']>,
  ): Promise<ClusterConfiguration | undefined> {
    try {
      const written = await this.client.request<ClusterConfiguration>('PATCH', this.path, {
        body: { status },
        contentType: CONTENT_TYPE.merge,
      });
      this.lastWritten = written;
      return written;
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

/** Whether `a` is a later version of the object than `b` (resourceVersions of one object compare as numbers in practice). */
function newer(a: ClusterConfiguration, b: ClusterConfiguration): boolean {
  if (a.metadata.uid !== b.metadata.uid) return false;
  const [ra, rb] = [Number(a.metadata.resourceVersion), Number(b.metadata.resourceVersion)];
  return Number.isFinite(ra) && Number.isFinite(rb) ? ra > rb : false;
}
