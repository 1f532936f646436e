/**
 * Crontab expressions as shell-operator's `schedule` bindings write them (robfig/cron syntax): five
 * fields, or six with a leading seconds field; names, lists, ranges and steps (`5/20` too); `?` for
 * day-of-month or day-of-week; @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly; and
 * `@every <Go duration>`. Parsing and "next run" come from croner in UTC, with classic cron's rule
 * that a restricted day-of-month and day-of-week match when either does; `@every` and the `?` rule
 * are robfig/cron's, which croner does not share, so they are checked here.
 */
import { Cron } from 'croner';
import { parseGoDuration } from '../util/duration.js';

export class CronError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`crontab "${expression}": ${reason}`);
    this.name = 'CronError';
  }
}

type CronSchedule = { kind: 'every'; intervalMs: number } | { kind: 'cron'; cron: Cron };

/** Field names and ranges, for errors that name the field as a person reads the expression. */
const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
];

/** croner reports an out-of-range value by its internal index (month 13 as 12); say it as written. */
function checkRanges(expression: string, fields: string[]): void {
  const specs = fields.length === 6 ? FIELDS : FIELDS.slice(1);
  fields.forEach((field, i) => {
    const spec = specs[i]!;
    for (const item of field.split(',')) {
      const range = item.split('/')[0] ?? '';
      for (const token of range.split('-')) {
        if (!/^\d+$/.test(token)) continue;
        const value = Number(token);
        if (value < spec.min || value > spec.max) {
          throw new CronError(
            expression,
            `${spec.name} field: ${value} is out of range ${spec.min}-${spec.max}`,
          );
        }
      }
    }
  });
}

const SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Parses a crontab expression; throws CronError naming the expression and the bad part. */
export function parseCron(expression: string): CronSchedule {
  const expr = expression.trim();
  if (expr.startsWith('@every')) {
    let ms: number;
    try {
      ms = parseGoDuration(expr.slice('@every'.length));
    } catch (err) {
      throw new CronError(expression, (err as Error).message);
    }
    if (!(ms > 0)) throw new CronError(expression, '@every needs a positive duration');
    return { kind: 'every', intervalMs: Math.max(1000, Math.floor(ms / 1000) * 1000) };
  }
  if (expr.startsWith('@') && !SHORTHANDS.includes(expr.toLowerCase())) {
    throw new CronError(expression, `unknown shorthand (use ${SHORTHANDS.join(', ')} or @every)`);
  }
  const fields = expr.split(/\s+/);
  if (!expr.startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    throw new CronError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  // croner reads `?` anywhere as "now"; robfig/cron allows it only for the two day fields.
  const dayFields = fields.length === 6 ? [3, 5] : [2, 4];
  if (fields.some((f, i) => f.includes('?') && !dayFields.includes(i))) {
    throw new CronError(expression, '"?" is only allowed for day-of-month and day-of-week');
  }
  if (!expr.startsWith('@')) checkRanges(expression, fields);
  try {
    return {
      kind: 'cron',
      cron: new Cron(expr.toLowerCase() === '@midnight' ? '@daily' : expr, {
        timezone: 'Etc/UTC',
        paused: true,
        sloppyRanges: true,
        mode: '5-or-6-parts',
      }),
    };
  } catch (err) {
    throw new CronError(expression, (err as Error).message.replace(/^CronPattern: /, ''));
  }
}

/** The first time strictly after `from` at which the schedule fires. */
export function nextRun(expr: string | CronSchedule, from: Date): Date {
  const s = typeof expr === 'string' ? parseCron(expr) : expr;
  const start = Math.floor(from.getTime() / 1000) * 1000;
  if (s.kind === 'every') return new Date(start + s.intervalMs);
  const next = s.cron.nextRun(new Date(start));
  if (!next) {
    throw new CronError(
      typeof expr === 'string' ? expr : (s.cron.getPattern() ?? '(schedule)'),
      'never fires',
    );
  }
  return next;
}
