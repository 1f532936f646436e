/**
 * Outgrowing one Prometheus (docs/install.md#outgrowing-one-prometheus): shards, remote write, extra
 * scrape configurations from a Secret, and Thanos (a sidecar on Prometheus, a Thanos Store on the
 * object storage and a Thanos Query in front). The keys, what each refuses, and the values they
 * resolve to. Absent keys change nothing: one shard, no remote write, no Thanos.
 *
 * Secrets are named, never written into the spec: remote write credentials are secret key references
 * (the Prometheus object would carry an inline token in clear for anyone who may read it), the
 * object-storage configuration (which holds the bucket's keys) is a Secret key the user names.
 */
import { crdSpecSchema, schemaProblems } from './crd-schema.js';
import { dnsSubdomainReason, durationReason } from './field-checks.js';
import type { Spec } from './spec-path.js';
import { get, isMapping, isSetScalar } from './spec-path.js';

export const SHARDS_KEY = 'monitoring.prometheus.shards';
export const REMOTE_WRITE_KEY = 'monitoring.prometheus.remoteWrite';
export const ADDITIONAL_SCRAPE_CONFIGS_KEY = 'monitoring.prometheus.additionalScrapeConfigs';
export const THANOS_KEY = 'monitoring.thanos';
export const THANOS_ENABLED_KEY = 'monitoring.thanos.enabled';
export const THANOS_OBJECT_STORAGE_KEY = 'monitoring.thanos.objectStorageConfig';
export const THANOS_QUERY_REPLICAS_KEY = 'monitoring.thanos.query.replicas';
export const THANOS_STORE_REPLICAS_KEY = 'monitoring.thanos.store.replicas';
export const THANOS_RULER_REPLICAS_KEY = 'monitoring.thanos.ruler.replicas';
/** The mappings below monitoring.thanos. */
export const THANOS_MAPPINGS = [
  THANOS_KEY,
  'monitoring.thanos.query',
  'monitoring.thanos.store',
  'monitoring.thanos.ruler',
  'monitoring.thanos.sidecar',
] as const;

/** The Prometheus CRD we install, and the node of its spec remote write is checked against. */
export const PROMETHEUS_CRD_FILE = 'monitoring.coreos.com/prometheuses.monitoring.coreos.com.yaml';
const REMOTE_WRITE_SCHEMA_PATH = 'remoteWrite';

/** A key of a Secret in the monitoring namespace, as prometheus-operator takes it (SecretKeySelector). */
export interface SecretKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

/** One problem: the path below spec, the bad value, why, and the fix. */
export interface ScaleProblem {
  path: string;
  value: unknown;
  reason: string;
  fix: string;
}

/** A Secret's data key, as the API server accepts it. */
const SECRET_DATA_KEY = /^[-._a-zA-Z0-9]+$/;

/** Header names that carry a credential: refused inline, as bearerToken is. */
const CREDENTIAL_HEADER = /(authorization|token|api[-_]?key|secret|password|cookie)/i;

const secretRefFix = (path: string, example: string) =>
  `Write spec.${path} as {name: <Secret in kubesphere-monitoring-system>, key: <its data key>}, e.g. ${example}.`;

/** Problems of a {name, key} Secret reference at `path` (not of its absence). */
export function secretRefProblems(path: string, value: unknown, example: string): ScaleProblem[] {
  const fix = secretRefFix(path, example);
  if (!isMapping(value)) return [{ path, value, reason: 'is not a Secret key reference', fix }];
  const problems: ScaleProblem[] = [];
  for (const key of Object.keys(value)) {
    if (!['name', 'key', 'optional'].includes(key))
      problems.push({
        path: `${path}.${key}`,
        value: value[key],
        reason: 'is not a field of a Secret key reference (name, key, optional)',
        fix,
      });
  }
  const { name, key, optional } = value;
  if (typeof name !== 'string' || name === '')
    problems.push({ path: `${path}.name`, value: name, reason: 'is not the name of a Secret', fix });
  else if (dnsSubdomainReason(name) !== undefined)
    problems.push({ path: `${path}.name`, value: name, reason: dnsSubdomainReason(name)!, fix });
  if (typeof key !== 'string' || key === '')
    problems.push({ path: `${path}.key`, value: key, reason: 'is not a key of a Secret', fix });
  else if (!SECRET_DATA_KEY.test(key) || key.length > 253)
    problems.push({
      path: `${path}.key`,
      value: key,
      reason: 'is not a Secret data key (letters, digits, "-", "_" and ".")',
      fix,
    });
  if (optional !== undefined && optional !== null && typeof optional !== 'boolean')
    problems.push({ path: `${path}.optional`, value: optional, reason: 'is not true or false', fix });
  return problems;
}

/** Every Secret key reference in a remote-write item, by its path below the item. */
const REMOTE_WRITE_SECRET_REFS = [
  'basicAuth.username',
  'basicAuth.password',
  'authorization.credentials',
  'oauth2.clientSecret',
  'oauth2.clientId.secret',
  'sigv4.accessKey',
  'sigv4.secretKey',
  'tlsConfig.ca.secret',
  'tlsConfig.cert.secret',
  'tlsConfig.keySecret',
];

const REMOTE_WRITE_DURATIONS = [
  'remoteTimeout',
  'queueConfig.batchSendDeadline',
  'queueConfig.minBackoff',
  'queueConfig.maxBackoff',
  'metadataConfig.sendInterval',
];

/** Why a remote-write URL cannot be used: http(s), a host, no credentials in it. */
export function remoteWriteUrlReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http or https URL';
  if (url.username || url.password) return 'carries credentials in the URL';
  if (url.hostname === '') return 'has no host';
  return undefined;
}

/**
 * monitoring.prometheus.remoteWrite: a list of prometheus-operator v0.55 RemoteWriteSpec, checked
 * against the Prometheus CRD we install, then for what the schema allows and we refuse: inline
 * credentials (bearerToken, a credential header, user:password in the URL), duplicate names.
 */
export function remoteWriteProblems(value: unknown): ScaleProblem[] {
  const base = REMOTE_WRITE_KEY;
  const example = `[{url: "https://metrics.example.com/api/v1/write", basicAuth: {username: {name: remote-write, key: username}, password: {name: remote-write, key: password}}}]`;
  if (!Array.isArray(value))
    return [
      {
        path: base,
        value,
        reason: 'is not a list',
        fix: `Write spec.${base} as a list of remote-write targets, e.g. ${example}.`,
      },
    ];
  const schema = crdSpecSchema(PROMETHEUS_CRD_FILE, REMOTE_WRITE_SCHEMA_PATH);
  const problems: ScaleProblem[] = schemaProblems(schema, value).map((p) => ({
    path: `${base}${p.path.startsWith('[') ? '' : '.'}${p.path}`,
    value: p.value,
    reason: p.reason,
    fix: `Write each item of spec.${base} as prometheus-operator v0.55's RemoteWriteSpec (url required; secrets as {name, key}), e.g. ${example}.`,
  }));
  const names = new Map<string, number>();
  value.forEach((item, i) => {
    if (!isMapping(item)) return;
    const at = `${base}[${i}]`;
    if (isSetScalar(item.bearerToken))
      problems.push({
        path: `${at}.bearerToken`,
        value: item.bearerToken,
        reason: 'is an inline credential, which the Prometheus object would carry in clear',
        fix: `Put the token into a Secret in kubesphere-monitoring-system and name it: spec.${at}.authorization: {type: Bearer, credentials: {name: <Secret>, key: <key>}}; remove bearerToken.`,
      });
    const url = item.url;
    if (url !== undefined && url !== null && typeof url === 'string') {
      const why = remoteWriteUrlReason(url);
      if (why !== undefined)
        problems.push({
          path: `${at}.url`,
          value: why === 'carries credentials in the URL' ? '<redacted>' : url,
          reason: why,
          fix: `Set spec.${at}.url to the receiver's http(s) URL, e.g. https://metrics.example.com/api/v1/write; credentials go in basicAuth or authorization as Secret references.`,
        });
    }
    if (isMapping(item.headers)) {
      for (const header of Object.keys(item.headers)) {
        if (CREDENTIAL_HEADER.test(header))
          problems.push({
            path: `${at}.headers.${header}`,
            value: '<redacted>',
            reason: 'carries a credential inline',
            fix: `Remove the header and name a Secret instead: spec.${at}.authorization: {type: Bearer, credentials: {name: <Secret>, key: <key>}} or basicAuth.`,
          });
      }
    }
    for (const refPath of REMOTE_WRITE_SECRET_REFS) {
      const ref = get(item, refPath);
      if (!isMapping(ref)) continue;
      if (typeof ref.name !== 'string' || ref.name === '' || dnsSubdomainReason(ref.name) !== undefined)
        problems.push({
          path: `${at}.${refPath}.name`,
          value: ref.name,
          reason: 'does not name a Secret',
          fix: `Set spec.${at}.${refPath}.name to a Secret in kubesphere-monitoring-system (prometheus-operator reads it there).`,
        });
    }
    for (const durationPath of REMOTE_WRITE_DURATIONS) {
      const duration = get(item, durationPath);
      if (typeof duration === 'string' && durationReason(duration) !== undefined)
        problems.push({
          path: `${at}.${durationPath}`,
          value: duration,
          reason: 'is not a Prometheus duration',
          fix: `Set spec.${at}.${durationPath} to a duration such as 30s or 1m.`,
        });
    }
    if (typeof item.name === 'string' && item.name !== '') {
      const first = names.get(item.name);
      if (first !== undefined)
        problems.push({
          path: `${at}.name`,
          value: item.name,
          reason: `is also the name of item ${first}; Prometheus refuses two remote writes of one name`,
          fix: `Give spec.${at}.name a name of its own, or remove it.`,
        });
      else names.set(item.name, i);
    }
  });
  return problems;
}

/** monitoring.prometheus.additionalScrapeConfigs: a Secret key holding a list of scrape configurations. */
export function additionalScrapeConfigsProblems(value: unknown): ScaleProblem[] {
  const path = ADDITIONAL_SCRAPE_CONFIGS_KEY;
  if (Array.isArray(value))
    return [
      {
        path,
        value,
        reason: 'is a list of scrape configurations written inline',
        fix: `Put the scrape configurations (a YAML list) into a key of a Secret in kubesphere-monitoring-system and name it: spec.${path}: {name: additional-scrape-configs, key: prometheus-additional.yaml}.`,
      },
    ];
  return secretRefProblems(path, value, '{name: additional-scrape-configs, key: prometheus-additional.yaml}');
}

/** Object-storage configuration written into the spec, recognised by Thanos' own keys. */
const INLINE_OBJSTORE_KEYS = ['type', 'config', 'prefix'];

export function objectStorageProblems(value: unknown, thanosOn: boolean): ScaleProblem[] {
  const path = THANOS_OBJECT_STORAGE_KEY;
  const example = '{name: thanos-objstore, key: objstore.yml}';
  if (value === undefined || value === null || value === '') {
    return thanosOn
      ? [
          {
            path,
            value,
            reason: 'is missing, but monitoring.thanos.enabled is true',
            fix: `Create a Secret in kubesphere-monitoring-system whose key holds Thanos' object-storage configuration (type and config) and name it: spec.${path}: ${example}.`,
          },
        ]
      : [];
  }
  if (isMapping(value) && INLINE_OBJSTORE_KEYS.some((k) => k in value))
    return [
      {
        path,
        value: '<redacted>',
        reason: 'is an object-storage configuration written inline (it holds the bucket credentials)',
        fix: `Put it into a key of a Secret in kubesphere-monitoring-system (kubectl create secret generic thanos-objstore -n kubesphere-monitoring-system --from-file=objstore.yml) and name it: spec.${path}: ${example}.`,
      },
    ];
  return secretRefProblems(path, value, example);
}

export function thanosEnabled(spec: Spec): boolean {
  return get(spec, THANOS_ENABLED_KEY) === true;
}

/** monitoring.prometheus.shards, 1 when unset. */
export function shards(spec: Spec): number {
  const value = get(spec, SHARDS_KEY);
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : 1;
}

function secretRef(value: unknown): SecretKeyRef | undefined {
  if (!isMapping(value)) return undefined;
  const ref: SecretKeyRef = { name: value.name as string, key: value.key as string };
  if (typeof value.optional === 'boolean') ref.optional = value.optional;
  return ref;
}

/** The remote-write list as the Prometheus object takes it (nulls dropped, as the API server would). */
export function remoteWrite(spec: Spec): Record<string, unknown>[] {
  const value = get(spec, REMOTE_WRITE_KEY);
  if (!Array.isArray(value)) return [];
  const withoutNulls = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(withoutNulls);
    if (!isMapping(node)) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  };
  return value.map((item) => withoutNulls(item) as Record<string, unknown>);
}

export function additionalScrapeConfigs(spec: Spec): SecretKeyRef | undefined {
  return secretRef(get(spec, ADDITIONAL_SCRAPE_CONFIGS_KEY));
}

export function objectStorageConfig(spec: Spec): SecretKeyRef | undefined {
  return secretRef(get(spec, THANOS_OBJECT_STORAGE_KEY));
}

/** Thanos Query's Service: the endpoint KubeSphere should read when Thanos is on. */
export function thanosQueryUrl(namespace: string): string {
  return `http://thanos-query.${namespace}.svc:9090`;
}
