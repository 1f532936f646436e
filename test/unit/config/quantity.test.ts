import { describe, expect, it } from '@jest/globals';
import {
  compareQuantities,
  isQuantity,
  parseQuantity,
  tryParseQuantity,
} from '../../../src/config/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['1Ki', 1024],
    ['20Gi', 20 * 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2Ti', 2 * 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['500Mi', 500 * 2 ** 20],
    ['1k', 1000],
    ['2M', 2e6],
    ['3G', 3e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['200m', 0.2],
    ['100u', 1e-4],
    ['5n', 5e-9],
    ['4', 4],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1.', 1],
    ['1e3', 1000],
    ['1E3', 1000],
    ['12e-2', 0.12],
    ['+1', 1],
    ['-1', -1],
  ])('%s is %d', (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 12);
  });

  it('accepts numbers as they are', () => {
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity(0.25)).toBe(0.25);
  });

  it.each(['', 'Gi', '1 Gi', ' 1Gi', '1GB', '1gi', '1.2.3', 'abc', '1Ki2', '1e', '--1', '0x10'])(
    'rejects %j',
    (text) => {
      expect(tryParseQuantity(text)).toBeUndefined();
      expect(isQuantity(text)).toBe(false);
      expect(() => parseQuantity(text)).toThrow(/not a Kubernetes quantity/);
    },
  );

  it('rejects non-finite numbers and other types', () => {
    expect(isQuantity(Number.POSITIVE_INFINITY)).toBe(false);
    expect(isQuantity(null)).toBe(false);
    expect(isQuantity(true)).toBe(false);
  });

  it('compares across suffixes', () => {
    expect(compareQuantities('50Gi', '20Gi')).toBeGreaterThan(0);
    expect(compareQuantities('1Gi', '1024Mi')).toBe(0);
    expect(compareQuantities('1G', '1Gi')).toBeLessThan(0);
    expect(compareQuantities('500m', 1)).toBeLessThan(0);
  });
});
