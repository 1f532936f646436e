/**
 * Crontab expressions as shell-operator's `schedule` bindings write them: five fields
 * (minute hour day-of-month month day-of-week) or six with a leading seconds field; `*`, `?`,
 * lists, ranges, steps and month/day names; the shorthands @yearly/@annually, @monthly, @weekly,
 * @daily/@midnight, @hourly and `@every <duration>` (Go duration syntax, e.g. `@every 1h30m`).
 * Times are computed in UTC. When day-of-month and day-of-week are both restricted, a day matching
 * either one matches (classic cron rule).
 */

export class CronError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`crontab "${expression}": ${reason}`);
    this.name = 'CronError';
  }
}

export interface FieldSchedule {
  kind: 'fields';
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number>;
  /** Day-of-month resp. day-of-week written as `*` or `?` (unrestricted). */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

export interface EverySchedule {
  kind: 'every';
  /** Whole seconds, at least one. */
  intervalMs: number;
}

export type CronSchedule = FieldSchedule | EverySchedule;

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
// 7 is accepted as Sunday and folded onto 0.
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES };

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`90s`, `1h30m`, `1.5h`) in milliseconds. */
export function parseDuration(text: string): number {
  const whole = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)/;
  let rest = text.trim();
  if (rest === '') throw new Error('empty duration');
  let total = 0;
  while (rest !== '') {
    const match = whole.exec(rest);
    if (!match) throw new Error(`invalid duration "${text}" (use e.g. 30s, 5m, 1h30m)`);
    const [, value, unit] = /^([\d.]+)(.*)$/.exec(match[0]) as RegExpExecArray;
    total += Number(value) * (DURATION_UNITS_MS[unit as string] as number);
    rest = rest.slice(match[0].length);
  }
  return total;
}

function parseValue(text: string, spec: FieldSpec, expr: string): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + spec.min;
  if (!/^\d+$/.test(text)) throw new CronError(expr, `${spec.name} field: "${text}" is not a number`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new CronError(expr, `${spec.name} field: ${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, expr: string): { values: Set<number>; any: boolean } {
  const values = new Set<number>();
  let any = false;
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (range === undefined || range === '' || extra !== undefined) {
      throw new CronError(expr, `${spec.name} field: "${item}" is not a valid item`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(expr, `${spec.name} field: step "${stepText}" must be a positive integer`);
      }
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (range === '*' || range === '?') {
      if (range === '?' && spec !== DAY_OF_MONTH && spec !== DAY_OF_WEEK) {
        throw new CronError(expr, `${spec.name} field: "?" is only allowed for day-of-month and day-of-week`);
      }
      [low, high] = [spec.min, spec.max];
      if (step === 1) any = true;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined || a === undefined || b === undefined) {
        throw new CronError(expr, `${spec.name} field: "${range}" is not a valid range`);
      }
      [low, high] = [parseValue(a, spec, expr), parseValue(b, spec, expr)];
      if (low > high) throw new CronError(expr, `${spec.name} field: range "${range}" runs backwards`);
    } else {
      low = parseValue(range, spec, expr);
      // `a/step` means from a to the end of the range.
      high = stepText === undefined ? low : spec.max;
    }
    for (let v = low; v <= high; v += step) values.add(spec === DAY_OF_WEEK && v === 7 ? 0 : v);
  }
  return { values, any };
}

/** Parses a crontab expression; throws CronError naming the expression and the bad part. */
export function parseCron(expression: string): CronSchedule {
  const expr = expression.trim();
  if (expr.startsWith('@every')) {
    const durationText = expr.slice('@every'.length).trim();
    let ms: number;
    try {
      ms = parseDuration(durationText);
    } catch (err) {
      throw new CronError(expression, (err as Error).message);
    }
    if (!(ms > 0)) throw new CronError(expression, '@every needs a positive duration');
    return { kind: 'every', intervalMs: Math.max(1000, Math.floor(ms / 1000) * 1000) };
  }
  if (expr.startsWith('@')) {
    const expanded = SHORTHANDS[expr.toLowerCase()];
    if (expanded === undefined) {
      throw new CronError(
        expression,
        `unknown shorthand (use ${Object.keys(SHORTHANDS).join(', ')} or @every)`,
      );
    }
    return parseCron(expanded);
  }
  const fields = expr.split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  const withSeconds = fields.length === 6 ? fields : ['0', ...fields];
  const [s, mi, h, dom, mo, dow] = withSeconds as [string, string, string, string, string, string];
  const daysOfMonth = parseField(dom, DAY_OF_MONTH, expression);
  const daysOfWeek = parseField(dow, DAY_OF_WEEK, expression);
  return {
    kind: 'fields',
    seconds: parseField(s, SECOND, expression).values,
    minutes: parseField(mi, MINUTE, expression).values,
    hours: parseField(h, HOUR, expression).values,
    daysOfMonth: daysOfMonth.values,
    months: parseField(mo, MONTH, expression).values,
    daysOfWeek: daysOfWeek.values,
    anyDayOfMonth: daysOfMonth.any,
    anyDayOfWeek: daysOfWeek.any,
  };
}

function dayMatches(s: FieldSchedule, t: Date): boolean {
  const dom = s.daysOfMonth.has(t.getUTCDate());
  const dow = s.daysOfWeek.has(t.getUTCDay());
  if (s.anyDayOfMonth || s.anyDayOfWeek) return dom && dow;
  return dom || dow;
}

/** How far ahead to look before deciding an expression never fires (e.g. `0 0 30 2 *`). */
const SEARCH_YEARS = 5;

/** The first time strictly after `from` at which the schedule fires. */
export function nextRun(expr: string | CronSchedule, from: Date): Date {
  const s = typeof expr === 'string' ? parseCron(expr) : expr;
  const start = Math.floor(from.getTime() / 1000) * 1000;
  if (s.kind === 'every') return new Date(start + s.intervalMs);

  const t = new Date(start + 1000);
  const limit = from.getUTCFullYear() + SEARCH_YEARS;
  while (t.getUTCFullYear() <= limit) {
    if (!s.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(s, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!s.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!s.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else if (!s.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
    } else {
      return t;
    }
  }
  const text = typeof expr === 'string' ? expr : '(schedule)';
  throw new CronError(text, `never fires within ${SEARCH_YEARS} years`);
}
