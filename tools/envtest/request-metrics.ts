/**
 * The API server's own count of the requests it served (`apiserver_request_total` on `/metrics`),
 * scraped before and after something and diffed, split by verb and by written resource: how the
 * bench and the tests count an operator's requests and writes without trusting the operator.
 */
import type { KubeClient } from '../../src/kube/client.js';

export type Counter = Map<string, number>;
/** Server-side apply is counted as its own verb, APPLY (a PATCH on the wire). */
export const WRITE_VERBS = new Set(['APPLY', 'POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION']);

/**
 * Series only the API server's own loops write to (Lease renewals, the kubernetes Service's
 * endpoints and IP addresses, APIService registration, API Priority and Fairness keeping its
 * FlowSchemas and PriorityLevelConfigurations and their status, and the Established condition of new CRDs):
 * counted apart, so requests and writes are the client's, the operator's or kubectl's.
 */
export const SERVER_OWN =
  /resource="(leases|endpoints|endpointslices|ipaddresses|apiservices|flowschemas|prioritylevelconfigurations)"|resource="customresourcedefinitions".*subresource="status"/;

/** apiserver_request_total by series. */
export async function scrape(admin: KubeClient): Promise<Counter> {
  const counter: Counter = new Map();
  for (const line of (await admin.getText('/metrics')).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const i = line.lastIndexOf(' ');
    counter.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return counter;
}

export interface Requests {
  requests: number;
  writes: number;
  byVerb: Record<string, number>;
  /** Writes by `VERB resource[/subresource]` (the bench's own included). */
  writesByResource: Record<string, number>;
  /** Requests of the API server's own loops meanwhile (SERVER_OWN), not in the figures above. */
  serverOwn: number;
}

/**
 * What happened between two scrapes, by verb. `own` are the bench's requests in between (the scrape
 * of `before` itself is counted after it, so one GET is always ours).
 */
export function diff(before: Counter, after: Counter, own: Record<string, number> = {}): Requests {
  const byVerb: Record<string, number> = {};
  const writesByResource: Record<string, number> = {};
  let serverOwn = 0;
  for (const [series, value] of after) {
    const d = value - (before.get(series) ?? 0);
    if (d <= 0) continue;
    if (SERVER_OWN.test(series)) {
      if (!series.includes('verb="WATCH"')) serverOwn += d;
      continue;
    }
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(series)?.[1] ?? '';
    // A dry run (dry_run="All") writes nothing: its own verb, e.g. `APPLY (dry run)`, not a write.
    const verb = `${label('verb') || '?'}${label('dry_run') ? ' (dry run)' : ''}`;
    byVerb[verb] = (byVerb[verb] ?? 0) + d;
    if (WRITE_VERBS.has(verb)) {
      const key = `${verb} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
      writesByResource[key] = (writesByResource[key] ?? 0) + d;
    }
  }
  for (const [verb, n] of Object.entries({ ...own, GET: (own.GET ?? 0) + 1 })) {
    byVerb[verb] = (byVerb[verb] ?? 0) - n;
    if (byVerb[verb] === 0) delete byVerb[verb];
  }
  const requests = Object.entries(byVerb)
    .filter(([v]) => v !== 'WATCH')
    .reduce((a, [, n]) => a + n, 0);
  const writes = Object.entries(byVerb)
    .filter(([v]) => WRITE_VERBS.has(v))
    .reduce((a, [, n]) => a + n, 0);
  return {
    requests,
    writes,
    byVerb: Object.fromEntries(Object.entries(byVerb).sort()),
    writesByResource: Object.fromEntries(Object.entries(writesByResource).sort()),
    serverOwn,
  };
}

/**
 * API Priority and Fairness's count of the requests of one priority level (all its flow schemas):
 * dispatched (served) and rejected (answered 429: queue full, timed out in the queue, or over the limit).
 */
export async function flowControlCounts(
  admin: KubeClient,
  priorityLevel: string,
): Promise<{ dispatched: number; rejected: number }> {
  let dispatched = 0;
  let rejected = 0;
  for (const line of (await admin.getText('/metrics')).split('\n')) {
    if (!line.includes(`priority_level="${priorityLevel}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('apiserver_flowcontrol_dispatched_requests_total{')) dispatched += value;
    else if (line.startsWith('apiserver_flowcontrol_rejected_requests_total{')) rejected += value;
  }
  return { dispatched, rejected };
}
