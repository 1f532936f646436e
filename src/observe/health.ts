/**
 * Health checks and how /healthz and /readyz report them, in the manner of kube-apiserver:
 * `ok` when every check passes; otherwise 503 listing the failing checks with their reasons.
 * `?verbose` lists every check (`[+]name ok`, `[-]name failed: reason`) and a closing verdict.
 */

export interface CheckResult {
  ok: boolean;
  /** Why the check failed; shown in the response. */
  reason?: string;
}

type HealthCheck = () => CheckResult | Promise<CheckResult>;

/** One check, named after its endpoint, or named checks listed in the given order. */
export type HealthChecks = HealthCheck | Record<string, HealthCheck>;

interface HealthReport {
  status: 200 | 503;
  body: string;
}

/** How long a check may take before it counts as failed. */
const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** The named checks of an endpoint. */
function namedChecks(endpoint: string, checks: HealthChecks): [string, HealthCheck][] {
  return typeof checks === 'function' ? [[endpoint, checks]] : Object.entries(checks);
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs}ms` }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function line(name: string, result: CheckResult): string {
  if (result.ok) return `[+]${name} ok`;
  const reason = (result.reason ?? '').replace(/\s*\n\s*/g, ' ').trim();
  return `[-]${name} failed: ${reason || 'reason unknown'}`;
}

/** Runs the checks of `endpoint` (all at once) and writes the answer. */
export async function checkHealth(
  endpoint: string,
  checks: HealthChecks,
  options: { verbose: boolean; timeoutMs?: number },
): Promise<HealthReport> {
  const named = namedChecks(endpoint, checks);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const results = await Promise.all(named.map(([, check]) => runCheck(check, timeoutMs)));
  const failed = results.some((r) => !r.ok);
  if (!failed && !options.verbose) return { status: 200, body: 'ok' };
  const lines = named
    .map(([name], i) => [name, results[i] as CheckResult] as const)
    .filter(([, result]) => options.verbose || !result.ok)
    .map(([name, result]) => line(name, result));
  lines.push(`${endpoint} check ${failed ? 'failed' : 'passed'}`);
  return { status: failed ? 503 : 200, body: `${lines.join('\n')}\n` };
}
