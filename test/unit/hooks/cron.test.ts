import { describe, expect, it } from '@jest/globals';
import { CronError, nextRun, parseCron } from '../../../src/hooks/cron.js';
import { parseGoDuration as parseDuration } from '../../../src/util/duration.js';

const at = (iso: string): Date => new Date(iso);
const next = (expr: string, from: string): string => nextRun(expr, at(from)).toISOString();

describe('nextRun', () => {
  it.each([
    // expression, from, expected next run (UTC)
    ['*/5 * * * *', '2024-05-01T10:02:30Z', '2024-05-01T10:05:00.000Z'],
    ['*/5 * * * *', '2024-05-01T10:05:00Z', '2024-05-01T10:10:00.000Z'],
    ['*/5 * * * *', '2024-05-01T23:59:00Z', '2024-05-02T00:00:00.000Z'],
    ['0 0 1 * *', '2024-01-31T12:00:00Z', '2024-02-01T00:00:00.000Z'],
    ['0 0 1 * *', '2024-12-15T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['30 2 * * 1-5', '2024-05-03T03:00:00Z', '2024-05-06T02:30:00.000Z'], // Friday after 02:30 → Monday
    ['0 9,17 * * *', '2024-05-01T09:00:00Z', '2024-05-01T17:00:00.000Z'],
    ['15 10-12/2 * * *', '2024-05-01T10:20:00Z', '2024-05-01T12:15:00.000Z'],
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 12 * JAN,jul SUN', '2024-05-01T00:00:00Z', '2024-07-07T12:00:00.000Z'],
    ['0 0 * * 7', '2024-05-01T00:00:00Z', '2024-05-05T00:00:00.000Z'], // 7 is Sunday
    // day-of-month and day-of-week both restricted: either matches
    ['0 0 13 * 5', '2024-09-01T00:00:00Z', '2024-09-06T00:00:00.000Z'],
    ['0 0 13 * 5', '2024-09-06T00:00:00Z', '2024-09-13T00:00:00.000Z'],
    // one of them unrestricted: both must match
    ['0 0 ? * 5', '2024-09-01T00:00:00Z', '2024-09-06T00:00:00.000Z'],
    ['*/20 * * * * *', '2024-05-01T10:00:05Z', '2024-05-01T10:00:20.000Z'], // six fields: seconds first
    ['5/20 * * * *', '2024-05-01T10:30:00Z', '2024-05-01T10:45:00.000Z'],
    ['@hourly', '2024-05-01T10:00:00Z', '2024-05-01T11:00:00.000Z'],
    ['@daily', '2024-05-01T10:00:00Z', '2024-05-02T00:00:00.000Z'],
    ['@monthly', '2024-05-01T00:00:00Z', '2024-06-01T00:00:00.000Z'],
    ['@weekly', '2024-05-01T00:00:00Z', '2024-05-05T00:00:00.000Z'],
    ['@yearly', '2024-05-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['@every 90s', '2024-05-01T10:00:00.750Z', '2024-05-01T10:01:30.000Z'],
    ['@every 1h30m', '2024-05-01T10:00:00Z', '2024-05-01T11:30:00.000Z'],
    ['@every 1.5h', '2024-05-01T10:00:00Z', '2024-05-01T11:30:00.000Z'],
    ['@every 10ms', '2024-05-01T10:00:00Z', '2024-05-01T10:00:01.000Z'], // at least one second
  ])('%s after %s is %s', (expr, from, expected) => {
    expect(next(expr, from)).toBe(expected);
  });

  it('is strictly after the start even when the start matches', () => {
    expect(next('0 0 1 1 *', '2024-01-01T00:00:00Z')).toBe('2025-01-01T00:00:00.000Z');
  });

  it('accepts a parsed schedule', () => {
    const schedule = parseCron('0 * * * *');
    expect(nextRun(schedule, at('2024-05-01T10:59:59Z')).toISOString()).toBe('2024-05-01T11:00:00.000Z');
  });
});

describe('parseCron errors', () => {
  it.each([
    ['* * * *', /expected 5 fields/],
    ['60 * * * *', /minute field: 60 is out of range 0-59/],
    ['* 24 * * *', /hour field: 24 is out of range 0-23/],
    ['* * 0 * *', /day-of-month field: 0 is out of range 1-31/],
    ['* * * 13 *', /month field: 13 is out of range 1-12/],
    ['* * * * 8', /day-of-week field: 8 is out of range 0-7/],
    ['*/0 * * * *', /illegal stepping: 0/],
    ['5-1 * * * *', /From value is larger than to value: '5-1'/],
    ['a * * * *', /\(a\) contains illegal characters/],
    ['? * * * *', /"\?" is only allowed/],
    ['1,,2 * * * *', /minute \(\) is empty/],
    ['@fortnightly', /unknown shorthand/],
    ['@every', /empty duration/],
    ['@every 5 minutes', /invalid duration/],
    ['@every 0s', /positive duration/],
  ])('%s', (expr, reason) => {
    expect(() => parseCron(expr)).toThrow(CronError);
    expect(() => parseCron(expr)).toThrow(reason);
  });

  it('names the expression in the message', () => {
    expect(() => parseCron('61 * * * *')).toThrow(
      'crontab "61 * * * *": minute field: 61 is out of range 0-59',
    );
  });

  it('reports an expression that never fires', () => {
    expect(() => nextRun('0 0 31 4 *', at('2024-01-01T00:00:00Z'))).toThrow(/never fires/);
  });
});

describe('parseDuration', () => {
  it('reads Go durations', () => {
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('2h45m30s')).toBe((2 * 3600 + 45 * 60 + 30) * 1000);
    expect(parseDuration('.5s')).toBe(500);
  });
});
