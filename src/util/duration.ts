/**
 * Go durations (`300ms`, `90s`, `1h30m`, `1.5h`), the one duration syntax of this project: flags,
 * `@every` schedules and hook configuration all read them here. Kept in-house: npm's duration
 * parsers read other syntaxes (`1 hour`, `1d`) that a Go-format value must refuse.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a Go duration; throws on anything else, with an example of the syntax. */
export function parseGoDuration(text: string): number {
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
  let rest = text.trim();
  if (rest === '') throw new Error('empty duration');
  let total = 0;
  while (rest !== '') {
    const match = part.exec(rest);
    if (!match) throw new Error(`invalid duration "${text}" (use e.g. 30s, 5m, 1h30m)`);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}
