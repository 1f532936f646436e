/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules and controller-runtime's
 * timings (lease 15 s, renew deadline 10 s, retry 2 s). Expiry is judged by when this process last
 * saw the record change, not by the holder's clock. On shutdown the leader releases the Lease so a
 * standby takes over at its next retry instead of after the lease duration.
 * Kept in-house: client-node's elector is tied to its informer stack and does not release on shutdown.
 */
import { ApiError, type KubeClient, type KubeObject } from '../kube/client.js';
import type { Logger } from '../observe/logger.js';
import { sleep } from '../util/sleep.js';

interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec: LeaseSpec };

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private observedRv: string | undefined;
  private observedAt = 0;
  private leading = false;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases`;
  }

  /** Blocks until this process holds the Lease (or the signal aborts: then resolves false). */
  async acquire(signal: AbortSignal): Promise<boolean> {
    let announced = false;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.options.logger.info('became leader', {
          lease: `${this.options.namespace}/${this.options.name}`,
          identity: this.options.identity,
        });
        return true;
      }
      if (!announced) {
        this.options.logger.info('waiting for leadership', {
          lease: `${this.options.namespace}/${this.options.name}`,
        });
        announced = true;
      }
      await sleep(this.retryMs, signal);
    }
    return false;
  }

  /**
   * Renews every retry period; resolves when leadership is lost (renewal failed for the renew
   * deadline, or someone else holds the Lease) or the signal aborts.
   */
  async hold(signal: AbortSignal): Promise<'lost' | 'stopped'> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.retryMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        this.options.logger.error('lost leadership: could not renew the Lease within the renew deadline', {
          renewDeadlineSeconds: this.renewDeadlineMs / 1000,
        });
        return 'lost';
      }
    }
    return 'stopped';
  }

  /**
   * Gives the Lease up (holder cleared, duration 1 s) if this process holds it, so a standby takes
   * over at its next retry (controller-runtime's LeaderElectionReleaseOnCancel). A conflict (a renewal
   * answered meanwhile) reads the Lease again; the whole release takes at most a retry period.
   */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    const deadline = Date.now() + this.retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const lease = await this.client.get<Lease>(`${this.path}/${this.options.name}`, { deadline });
        if (lease.spec.holderIdentity !== this.options.identity) return;
        lease.spec = {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          renewTime: microTime(),
          acquireTime: null,
        };
        await this.client.request('PUT', `${this.path}/${this.options.name}`, { body: lease, deadline });
        this.options.logger.info('released leadership', {
          lease: `${this.options.namespace}/${this.options.name}`,
        });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.conflict && attempt < 2 && Date.now() < deadline) continue;
        this.options.logger.warn('could not release the Lease; the next leader waits for it to expire', {
          err: (err as Error).message,
        });
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const mine: LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.round(this.leaseMs / 1000),
      renewTime: microTime(now),
    };
    try {
      // A request retried inside the client (throttling, a reset) gives up after one retry period.
      const deadline = now.getTime() + this.retryMs;
      const lease = await this.client.getOrUndefined<Lease>(`${this.path}/${this.options.name}`, {
        deadline,
      });
      if (!lease) {
        await this.client.request('POST', this.path, {
          deadline,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.options.name, namespace: this.options.namespace },
            spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
          },
        });
        return true;
      }
      if (lease.metadata.resourceVersion !== this.observedRv) {
        this.observedRv = lease.metadata.resourceVersion;
        this.observedAt = now.getTime();
      }
      const holder = lease.spec.holderIdentity;
      const held = holder === this.options.identity;
      const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
      if (!held && holder && this.observedAt + durationMs > now.getTime()) return false;
      const spec: LeaseSpec = held
        ? { ...lease.spec, ...mine }
        : {
            ...lease.spec,
            ...mine,
            acquireTime: microTime(now),
            leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1,
          };
      const updated = await this.client.request<Lease>('PUT', `${this.path}/${this.options.name}`, {
        deadline,
        body: { ...lease, spec },
      });
      this.observedRv = updated.metadata.resourceVersion;
      this.observedAt = now.getTime();
      return true;
    } catch (err) {
      if (!(err instanceof ApiError && err.conflict)) {
        this.options.logger.warn('leader election request failed', { err: (err as Error).message });
      }
      return false;
    }
  }
}
