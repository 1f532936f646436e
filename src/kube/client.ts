/**
 * A thin REST client over @kubernetes/client-node's KubeConfig: the kubeconfig supplies credentials
 * and one cached keep-alive dispatcher per cluster and user; this class supplies exact control of
 * content types (apply, merge patch, metadata-only lists), impersonation, errors that carry the API
 * server's reason, streaming watches, and retries inside a request as client-go does (retry.ts).
 */
// The kubeconfig and request modules only, not the package index (see slim-client-node.ts).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fetch, type Dispatcher } from 'undici';
import { ANSWER_STALL } from '../reconcile/backoff.js';
import { DEFAULT_RETRY, retryDecision, waitForRetry, type RetryAttempt, type RetryPolicy } from './retry.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    managedFields?: { manager?: string; operation?: string; time?: string }[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ObjectList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export const CONTENT_TYPE = {
  json: 'application/json',
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
} as const;

/** Accept headers for metadata-only reads of one object and of a list (no spec, no status). */
export const ACCEPT_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
export const ACCEPT_METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** An error answered by the API server (or the transport), with its HTTP status and Status reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  get conflict(): boolean {
    return this.status === 409;
  }

  get gone(): boolean {
    return this.status === 410;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /**
   * Epoch milliseconds after which no retry starts: a retry whose wait would end later is not made
   * (the last answer is thrown). The signal still cuts a request or a wait short.
   */
  deadline?: number;
}

export interface Impersonation {
  user: string;
  groups?: string[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type WatchEnd = 'closed' | 'inactive' | 'aborted';

export interface WatchOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Abort the stream when no event (including bookmarks) arrived for this long. */
  inactivityTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * client-node builds a new undici Agent for every request it authenticates, so each request would
 * open its own TLS connection (and HTTP/2 session) that lingers until the server drops it. We keep
 * the first one per KubeConfig and send every request through it; it is replaced after
 * DISPATCHER_MAX_AGE_MS so rotated client certificates and CA files are picked up.
 */
const dispatchers = new WeakMap<KubeConfig, Connection>();
const DISPATCHER_MAX_AGE_MS = 10 * 60_000;

/** The shared dispatcher of a kubeconfig, and when anything last came back over it. */
interface Connection {
  dispatcher: Dispatcher;
  created: number;
  /** When an answer last completed, or a watch event arrived (epoch ms). */
  lastAnswer: number;
}

function sharedDispatcher(kc: KubeConfig, fresh: Dispatcher | undefined): Dispatcher | undefined {
  if (!fresh) return undefined;
  const cached = dispatchers.get(kc);
  if (cached && Date.now() - cached.created < DISPATCHER_MAX_AGE_MS) {
    if (fresh !== cached.dispatcher) fresh.close().catch(() => undefined);
    return cached.dispatcher;
  }
  dispatchers.set(kc, { dispatcher: fresh, created: Date.now(), lastAnswer: Date.now() });
  // The old one finishes what is in flight (a watch ends by its server timeout), then closes.
  if (cached) cached.dispatcher.close().catch(() => undefined);
  return fresh;
}

/** Records that something came back over the kubeconfig's connection. */
function answered(kc: KubeConfig): void {
  const c = dispatchers.get(kc);
  if (c) c.lastAnswer = Date.now();
}

/**
 * A connection taken for dead (ANSWER_STALL): destroyed, so every request and watch on it fails at once
 * (and is retried), and forgotten, so the next request opens a new one.
 */
function dropDispatcher(kc: KubeConfig, dispatcher: Dispatcher | undefined): void {
  const c = dispatchers.get(kc);
  if (c && c.dispatcher === dispatcher) dispatchers.delete(kc);
  dispatcher?.destroy().catch(() => undefined);
}

/**
 * Aborts `stall` when the request has had no complete answer and nothing came back over its
 * connection for `idleMs`, or after `maxMs` in any case; the connection is then dropped.
 */
function watchStall(
  kc: KubeConfig,
  dispatcher: Dispatcher | undefined,
  stall: AbortController,
  policy: StallPolicy,
  onDead?: (reason: string) => void,
): () => void {
  const sentAt = Date.now();
  let timer: NodeJS.Timeout;
  const check = () => {
    const now = Date.now();
    const last = Math.max(sentAt, dispatchers.get(kc)?.lastAnswer ?? 0);
    if (now - last >= policy.idleMs || now - sentAt >= policy.maxMs) {
      const reason =
        now - last >= policy.idleMs
          ? `no answer, and nothing came back over the connection for ${policy.idleMs / 1000}s: closed as dead`
          : `no answer within ${policy.maxMs / 1000}s: the connection was closed`;
      stall.abort(new Error(reason));
      // Once per connection: the other requests on it find it gone.
      if (!dispatcher || dispatchers.get(kc)?.dispatcher === dispatcher) onDead?.(reason);
      dropDispatcher(kc, dispatcher);
      return;
    }
    timer = setTimeout(check, Math.min(last + policy.idleMs, sentAt + policy.maxMs) - now);
    timer.unref();
  };
  timer = setTimeout(check, Math.min(policy.idleMs, policy.maxMs));
  timer.unref();
  return () => clearTimeout(timer);
}

export interface KubeClientOptions {
  /** How requests answered 429/503 with Retry-After, or cut by the transport, are retried. */
  retry?: RetryPolicy;
  /** Called before each retry's wait (for a log line or a metric). */
  onRetry?: (attempt: RetryAttempt) => void;
  /** When a request without an answer is given up and its connection taken for dead (default ANSWER_STALL). */
  stall?: StallPolicy;
  /** Called when a connection is taken for dead and closed (for a log line). */
  onDeadConnection?: (reason: string) => void;
  /**
   * Ends every request and watch of this client, in flight or to come, when it aborts: shutdown
   * cancels a run's requests at once instead of waiting for the run to finish.
   */
  signal?: AbortSignal;
}

export interface StallPolicy {
  /** Nothing came back over the connection for this long: it is dead. */
  idleMs: number;
  /** No answer after this long whatever else came back. */
  maxMs: number;
}

/** Both signals as one (either aborting aborts it); undefined when neither is given. */
function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

export class KubeClient {
  private readonly server: string;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly impersonate?: Impersonation,
    readonly options: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /** Loads --kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config. */
  static fromKubeconfig(
    file?: string,
    impersonate?: Impersonation,
    options: KubeClientOptions = {},
  ): KubeClient {
    const kc = new KubeConfig();
    if (file) kc.loadFromFile(file);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
    return new KubeClient(kc, impersonate, options);
  }

  /** The same credentials acting as someone else (Impersonate-User / Impersonate-Group). */
  as(impersonate: Impersonation): KubeClient {
    return new KubeClient(this.kubeConfig, impersonate, this.options);
  }

  /** Closes the connections of this client's kubeconfig (shared with clients made by `as`). */
  async close(): Promise<void> {
    const cached = dispatchers.get(this.kubeConfig);
    dispatchers.delete(this.kubeConfig);
    await cached?.dispatcher.close();
  }

  get serverUrl(): string {
    return this.server;
  }

  private async prepare(
    method: HttpMethod,
    path: string,
    query: RequestOptions['query'],
  ): Promise<{ url: string; headers: Record<string, string>; dispatcher?: Dispatcher }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...(ctx.getHeaders() as Record<string, string>) };
    const dispatcher = sharedDispatcher(this.kubeConfig, ctx.getDispatcher() as Dispatcher | undefined);
    return { url: ctx.getUrl(), headers, dispatcher };
  }

  private headerList(base: Record<string, string>, extra: Record<string, string>): [string, string][] {
    const list: [string, string][] = Object.entries({ ...base, ...extra });
    if (this.impersonate) list.push(['Impersonate-User', this.impersonate.user]);
    // One header per group: the API server reads Impersonate-Group as a repeated header.
    for (const g of this.impersonate?.groups ?? []) list.push(['Impersonate-Group', g]);
    return list;
  }

  async request<T = unknown>(
    method: keyof typeof HttpMethod | string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    return (await this.requestWithStatus<T>(method, path, options)).body;
  }

  /** A request answered with its HTTP status too (e.g. 201 when an apply created the object). */
  async requestWithStatus<T = unknown>(
    method: keyof typeof HttpMethod | string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; body: T }> {
    const m = method.toUpperCase() as HttpMethod;
    const extra: Record<string, string> = { Accept: options.accept ?? CONTENT_TYPE.json };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      extra['Content-Type'] = options.contentType ?? CONTENT_TYPE.json;
    }
    const { status, text } = await this.send(m, path, options, extra, body);
    return { status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * Sends one request, retried as client-go does (retry.ts decides): an answer 429 or 503 with
   * Retry-After (the API server throttling, or "storage is (re)initializing" after a CRD is created)
   * after the delay asked for; a 429 without it, and a connection reset or timeout of a request that
   * is safe to send twice, after a growing delay. At most the policy's retries, within the signal and
   * the deadline; then the last answer is thrown.
   */
  private async send(
    m: HttpMethod,
    path: string,
    options: Pick<RequestOptions, 'query' | 'signal' | 'deadline' | 'contentType'>,
    extra: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    const policy = this.options.retry ?? DEFAULT_RETRY;
    const signal = eitherSignal(options.signal, this.options.signal);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw transportError(m, path, new Error('the request was aborted'));
      // Credentials are read again each attempt: a token file may have been rotated meanwhile.
      const { url, headers, dispatcher } = await this.prepare(m, path, options.query);
      let failure: ApiError;
      let sent: 'no' | 'maybe' | 'answered' = 'answered';
      let retryAfter: string | null = null;
      const stall = new AbortController();
      const stopWatching = watchStall(
        this.kubeConfig,
        dispatcher,
        stall,
        this.options.stall ?? ANSWER_STALL,
        this.options.onDeadConnection,
      );
      try {
        const res = await fetch(url, {
          method: m,
          headers: this.headerList(headers, extra),
          body,
          dispatcher,
          signal: eitherSignal(signal, stall.signal),
        });
        retryAfter = res.headers.get('retry-after');
        let text: string;
        try {
          text = await res.text();
        } catch (err) {
          // The answer was cut while its body streamed: the request was processed, its answer lost.
          throw Object.assign(new Error((err as Error).message, { cause: err }), { afterAnswer: true });
        }
        answered(this.kubeConfig);
        if (res.status < 400) return { status: res.status, text };
        failure = toApiError(res.status, m, path, text);
      } catch (err) {
        if (signal?.aborted) throw transportError(m, path, err);
        if (stall.signal.aborted) {
          // Not refused and not answered: whether it reached the server is unknown.
          failure = transportError(m, path, stall.signal.reason);
          sent = 'maybe';
        } else {
          failure = transportError(m, path, err);
          sent = (err as { afterAnswer?: boolean }).afterAnswer ? 'maybe' : transportSent(err);
        }
      } finally {
        stopWatching();
      }
      const decision = retryDecision(policy, {
        idempotent: idempotent(m, options.contentType, options.query?.['dryRun'] !== undefined),
        status: failure.status,
        retryAfter,
        sent,
        attempt,
      });
      if (!decision) throw failure;
      const waitMs = decision.delayMs;
      if (options.deadline !== undefined && Date.now() + waitMs > options.deadline) throw failure;
      this.options.onRetry?.({
        method: m,
        path,
        attempt: attempt + 1,
        delayMs: waitMs,
        reason: decision.reason,
        error: failure.message,
      });
      if (!(await waitForRetry(waitMs, signal))) throw failure;
    }
  }

  /** A GET answered in text, e.g. the API server's own `/metrics`. */
  async getText(path: string): Promise<string> {
    return (await this.send(HttpMethod.GET, path, {}, { Accept: 'text/plain' }, undefined)).text;
  }

  get<T = KubeObject>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  /** GET that answers undefined for 404. */
  async getOrUndefined<T = KubeObject>(path: string, options?: RequestOptions): Promise<T | undefined> {
    try {
      return await this.get<T>(path, options);
    } catch (err) {
      if (err instanceof ApiError && err.notFound) return undefined;
      throw err;
    }
  }

  /**
   * Streams a watch. Resolves with why the stream ended: the server closed it ('closed'), nothing
   * arrived for inactivityTimeoutMs ('inactive'), or the caller aborted ('aborted'). Rejects with
   * ApiError when the request fails or the stream carries an ERROR event (410 Gone included).
   */
  async watch<T = KubeObject>(
    path: string,
    onEvent: (e: WatchEvent<T>) => void,
    options: WatchOptions = {},
  ): Promise<WatchEnd> {
    const query = { ...options.query, watch: 'true', allowWatchBookmarks: 'true' };
    const { url, headers, dispatcher } = await this.prepare(HttpMethod.GET, path, query);
    const controller = new AbortController();
    let ended: WatchEnd = 'aborted';
    const abort = () => controller.abort();
    const signal = eitherSignal(options.signal, this.options.signal);
    if (signal?.aborted) return 'aborted';
    signal?.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (!options.inactivityTimeoutMs) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        ended = 'inactive';
        abort();
      }, options.inactivityTimeoutMs);
      timer.unref();
    };
    let body: Readable | undefined;
    try {
      arm();
      let res;
      try {
        res = await fetch(url, {
          method: 'GET',
          headers: this.headerList(headers, { Accept: CONTENT_TYPE.json }),
          dispatcher,
          signal: controller.signal,
        });
      } catch (err) {
        if (controller.signal.aborted) return ended;
        throw new ApiError(0, 'TransportError', `WATCH ${path}: ${(err as Error).message}`);
      }
      answered(this.kubeConfig);
      if (res.status !== 200) throw toApiError(res.status, 'WATCH', path, await res.text());
      if (!res.body) return 'closed';
      body = Readable.fromWeb(res.body as never);
      // Aborting the request (watchdog, stop, an ERROR event) errors the body stream; that is the end we asked for.
      body.on('error', () => undefined);
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (!line.trim()) continue;
          arm();
          answered(this.kubeConfig);
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') {
            const st = event.object as { code?: number; reason?: string; message?: string };
            throw new ApiError(
              st.code ?? 500,
              st.reason ?? 'WatchError',
              `WATCH ${path}: ${st.message ?? 'error event'}`,
            );
          }
          onEvent(event);
        }
        return 'closed';
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (controller.signal.aborted) return ended;
        throw new ApiError(0, 'TransportError', `WATCH ${path}: ${(err as Error).message}`);
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      body?.destroy();
      if (!controller.signal.aborted) controller.abort();
    }
  }
}

/**
 * Whether sending a request twice leaves the same state as sending it once: a read, a server-side
 * apply or merge patch (the same patch again changes nothing more), any dry run (nothing is stored).
 */
export function idempotent(method: string, contentType: string | undefined, dryRun: boolean): boolean {
  if (dryRun || method === 'GET' || method === 'HEAD') return true;
  return method === 'PATCH' && (contentType === CONTENT_TYPE.apply || contentType === CONTENT_TYPE.merge);
}

/** A request that got no answer (refused, reset, timed out, aborted) as an ApiError with status 0. */
function transportError(method: string, path: string, err: unknown): ApiError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const detail = e.cause?.code ? ` (${e.cause.code}${e.cause.message ? `: ${e.cause.message}` : ''})` : '';
  return new ApiError(0, 'TransportError', `${method} ${path}: ${e.message}${detail}`);
}

/**
 * Whether a request that got no answer may have reached the API server: a refused or timed-out
 * connection never sent it ('no'); a reset or a cut after it was written may have ('maybe').
 */
function transportSent(err: unknown): 'no' | 'maybe' {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  const neverSent = [
    'ECONNREFUSED',
    'UND_ERR_CONNECT_TIMEOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
  ];
  return code !== undefined && neverSent.includes(code) ? 'no' : 'maybe';
}

function toApiError(status: number, method: string, path: string, text: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new ApiError(
      status,
      s.reason ?? String(status),
      s.message ?? `${method} ${path}: HTTP ${status}`,
      s.details,
    );
  } catch {
    return new ApiError(status, String(status), `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`);
  }
}
