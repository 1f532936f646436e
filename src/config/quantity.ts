/**
 * Kubernetes resource quantities (`500Mi`, `1.5Gi`, `200m`, `2`, `1e3`, `0.5`) as comparable
 * numbers in base units (bytes, cores). Grammar of k8s.io/apimachinery resource.Quantity:
 * a signed decimal number, then a binary suffix (Ki…Ei), a decimal suffix (n u m k M G T P E)
 * or an exponent (e3, E-2).
 * Kept in-house: the npm quantity parsers round to floats on parse or miss the exponent and `E`
 * (exa) forms the API server accepts, and comparing sizes is all this needs.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

const MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The quantity in base units, or undefined when it is not a quantity. Numbers count as quantities. */
export function tryParseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim() === value ? value : '');
  if (!match) return undefined;
  const [, number, suffix, exponent] = match;
  const base = Number(number);
  if (exponent !== undefined) return base * 10 ** Number(exponent);
  return suffix === undefined ? base : base * (MULTIPLIERS[suffix] as number);
}

/** The quantity in base units; throws on anything that is not a quantity. */
export function parseQuantity(value: string | number): number {
  const parsed = tryParseQuantity(value);
  if (parsed === undefined) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(value)}`);
  return parsed;
}

export function isQuantity(value: unknown): value is string | number {
  return tryParseQuantity(value) !== undefined;
}

/** Negative, zero or positive like a sort comparator. */
export function compareQuantities(a: string | number, b: string | number): number {
  return parseQuantity(a) - parseQuantity(b);
}
