/**
 * Our recording rules and alerts against the original's outputs on the rules fixture, evaluated by
 * the Prometheus 2.39.1 rules engine (see test/rules/fixture.ts).
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fixtureReport, REPORT_FILE, type FixtureReport } from '../../rules/report.js';
import { loadExpected } from '../../rules/fixture.js';

const RECORDS = Object.keys(loadExpected().records).sort();
let report: FixtureReport;

beforeAll(async () => {
  report = await fixtureReport();
}, 20 * 60_000);

describe('recording rules on the fixture', () => {
  test('the contract has 112 records', () => {
    expect(RECORDS).toHaveLength(112);
  });

  test('no rule fails to evaluate', () => {
    expect(report.ours.errors).toEqual([]);
  });

  test.each(RECORDS)('%s: same label names, series and values as the original', (record) => {
    const verdict = report.records.find((r) => r.record === record)!;
    expect(verdict.detail).toBe('');
    expect(verdict).toMatchObject({ present: true, labelsEqual: true, valuesEqual: true });
  });

  test('alerts pending or firing at the last step are the original ones, each with a rule_id', () => {
    expect(report.alerts).toEqual({ missing: [], extra: [], different: [], withoutRuleId: [] });
  });

  test('docs/rules-fixture.md is current (npm run rules:report)', () => {
    expect(readFileSync(REPORT_FILE, 'utf8')).toBe(report.page);
  });
});
