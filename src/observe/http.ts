/**
 * The operator's small HTTP servers: health (/healthz, /readyz) and metrics (/metrics).
 * GET and HEAD only; close() ends keep-alive connections too, so shutdown does not wait on clients.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, parseListenAddress } from './address.js';
import { checkHealth } from './health.js';
import type { HealthChecks } from './health.js';

interface HttpRequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
}

interface HttpResponse {
  status: number;
  body: string;
  /** `text/plain; charset=utf-8` unless given. */
  contentType?: string;
}

type RouteHandler = (request: HttpRequestInfo) => HttpResponse | Promise<HttpResponse>;

interface HttpServerOptions {
  /** Go-style: `:8081`, `127.0.0.1:0`; `0` or empty disables the server. */
  address: string;
  /** Exact paths to handlers. */
  routes: Record<string, RouteHandler>;
  /** Told of handler failures (answered with 500). */
  onError?: (err: unknown, request: HttpRequestInfo) => void;
}

export interface RunningServer {
  /** The port listened on (the chosen one when the address asked for port 0). */
  port: number;
  /** `host:port` listened on, for logs. */
  address: string;
  /** Stops listening and ends open connections, keep-alive ones included. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

function send(
  res: ServerResponse,
  method: string,
  response: HttpResponse,
  extra: Record<string, string> = {},
): void {
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, {
    'Content-Type': response.contentType ?? TEXT,
    'Content-Length': String(body.length),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(method === 'HEAD' ? undefined : body);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, RouteHandler>,
  onError: HttpServerOptions['onError'],
): Promise<void> {
  req.resume();
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://localhost');
  const request: HttpRequestInfo = { method, path: url.pathname, query: url.searchParams };
  const handler = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
  if (!handler) {
    send(res, method, { status: 404, body: `404 page not found\n` });
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    send(res, method, { status: 405, body: `method ${method} not allowed\n` }, { Allow: 'GET, HEAD' });
    return;
  }
  try {
    send(res, method, await handler(request));
  } catch (err) {
    onError?.(err, request);
    if (!res.headersSent) send(res, method, { status: 500, body: 'internal error\n' });
    else res.destroy();
  }
}

/** Starts a server on `address`; null when the address disables it. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer | null> {
  const listen = parseListenAddress(options.address);
  if (!listen) return null;
  const server = createServer((req, res) => {
    void handle(req, res, options.routes, options.onError);
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void =>
      reject(new Error(`cannot listen on ${options.address}: ${err.message}`));
    server.once('error', fail);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    address: formatHostPort(bound.address, bound.port),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export interface HealthRouteOptions {
  checks: { healthz: HealthChecks; readyz: HealthChecks };
  /** How long one check may take before it counts as failed (default 5s). */
  checkTimeoutMs?: number;
}

/** /healthz and /readyz; `?verbose` lists every check. */
export function healthRoutes(options: HealthRouteOptions): Record<string, RouteHandler> {
  const endpoint =
    (name: 'healthz' | 'readyz'): RouteHandler =>
    async ({ query }) => {
      const report = await checkHealth(name, options.checks[name], {
        verbose: query.has('verbose'),
        timeoutMs: options.checkTimeoutMs,
      });
      return { status: report.status, body: report.body };
    };
  return { '/healthz': endpoint('healthz'), '/readyz': endpoint('readyz') };
}

/** /metrics in the Prometheus text format, from a prom-client Registry. */
export function metricsRoutes(registry: {
  metrics(): Promise<string>;
  contentType: string;
}): Record<string, RouteHandler> {
  return {
    '/metrics': async () => ({
      status: 200,
      body: await registry.metrics(),
      contentType: registry.contentType,
    }),
  };
}
