/**
 * Redaction of secret values before anything is logged or printed.
 *
 * A value is hidden when its key looks secret (see isSecretKey), at any depth, and the data of a
 * Kubernetes Secret object is hidden whatever its keys are. Everything else is copied as is, so the
 * result can be serialised without revealing what the input held.
 */

export const REDACTED = '[redacted]';

/** Last words of a key that name a secret value: `adminPassword`, `bearer_token`, `clientSecret`. */
const SECRET_LAST_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'token',
  'tokens',
  'secret',
  'secrets',
  'authorization',
  'bearer',
  'credentials',
  'apikey',
  'privatekey',
  'clientkey',
]);

/** Pairs of last words that name a secret value: `apiKey`, `api_key`, `privateKey`, `clientKey`. */
const SECRET_LAST_PAIRS = new Set(['api key', 'private key', 'client key', 'secret key']);

/** Annotation in which `kubectl apply` keeps a full copy of the object, data included. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Splits `clientKeyData`, `client-key-data`, `APIKey`, `tls.key` into lower-case words. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/**
 * Whether a field named `key` holds a secret: password, passwd, token, secret, apiKey, api_key,
 * authorization, bearer, privateKey, private_key, clientKey, client-key-data, and any `*.key` file
 * name (`tls.key`, `ca.key`). Names that only refer to a secret (`secretName`, `bearer_token_file`,
 * `caBundle`, `tls.crt`, a queue `key`) are not secret.
 */
export function isSecretKey(key: string): boolean {
  if (/.\.key$/i.test(key)) return true;
  const w = words(key);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  if (SECRET_LAST_WORDS.has(last)) return true;
  if (w.length >= 2 && SECRET_LAST_PAIRS.has(`${w[w.length - 2]} ${last}`)) return true;
  return w.length >= 3 && last === 'data' && SECRET_LAST_PAIRS.has(`${w[w.length - 3]} ${w[w.length - 2]}`);
}

/**
 * Whether a field holds credentials, as a value or as a whole object: a secret key (isSecretKey) or
 * HTTP basic authentication (`basicAuth`, `basic_auth`: user and password together). Public material
 * such as a webhook's `caBundle` or a certificate is not. Differences (compare.ts) hide such a field
 * whole; the log's redaction hides the secret keys inside it (a basicAuth's password, not its user).
 */
export function isCredentialField(key: string): boolean {
  return isSecretKey(key) || /^basic[_-]?auth$/i.test(key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A Kubernetes Secret, as a plain object or a client model: `kind: Secret`. */
function isKubernetesSecret(value: Record<string, unknown>): boolean {
  return value['kind'] === 'Secret';
}

function hideValues(data: unknown): unknown {
  if (!isRecord(data)) return data == null ? data : REDACTED;
  return Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED]));
}

function redactKubernetesSecret(
  secret: Record<string, unknown>,
  seen: WeakSet<object>,
): Record<string, unknown> {
  const out = redactRecord(secret, seen);
  if ('data' in out) out['data'] = hideValues(secret['data']);
  if ('stringData' in out) out['stringData'] = hideValues(secret['stringData']);
  const metadata = out['metadata'];
  if (isRecord(metadata) && isRecord(metadata['annotations']) && LAST_APPLIED in metadata['annotations']) {
    metadata['annotations'] = { ...metadata['annotations'], [LAST_APPLIED]: REDACTED };
  }
  return out;
}

function redactRecord(value: Record<string, unknown>, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item != null ? REDACTED : redactValue(item, seen);
  }
  return out;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return /^bearer\s+\S/i.test(value) ? `Bearer ${REDACTED}` : value;
  if (!isRecord(value)) return value;
  // Errors and dates are printed by the formatter (message, ISO time); their fields are not walked.
  if (value instanceof Error || value instanceof Date) return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
    if (value instanceof Set) return [...value].map((item) => redactValue(item, seen));
    if (value instanceof Map) return redactRecord(Object.fromEntries(value), seen);
    if (isKubernetesSecret(value)) return redactKubernetesSecret(value, seen);
    return redactRecord(value, seen);
  } finally {
    seen.delete(value);
  }
}

/**
 * A copy of `value` with every secret replaced by `[redacted]`: values under secret-looking keys
 * at any depth, the `data`/`stringData` values (and last-applied annotation) of Secret objects,
 * and `Bearer …` strings. Binary data becomes `[N bytes]`, cycles `[circular]`; errors and dates
 * are kept for the formatter. The input is not modified.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet());
}
