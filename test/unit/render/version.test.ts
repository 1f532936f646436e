import { describe, expect, it } from '@jest/globals';
import { compareVersions, parseLooseVersion, versionSatisfies } from '../../../src/render/version.js';

describe('loose versions', () => {
  it.each([
    ['v1.34.4', [1, 34, 4]],
    ['v1.34.4-eks.1', [1, 34, 4]],
    ['1.25.0+k3s1', [1, 25, 0]],
    ['v1.23', [1, 23, 0]],
    ['2', [2, 0, 0]],
  ])('parses %s', (text, triple) => {
    expect(parseLooseVersion(text)).toEqual(triple);
  });

  it('returns undefined for text without a version', () => {
    expect(parseLooseVersion('latest')).toBeUndefined();
    expect(() => compareVersions('latest', '1.0')).toThrow(/not a version/);
  });

  it('compares numerically, not as strings', () => {
    expect(compareVersions('v1.9.0', 'v1.10.0')).toBeLessThan(0);
    expect(compareVersions('v1.25.0-gke.100', '1.25.0')).toBe(0);
    expect(versionSatisfies('v1.34.4-eks.1', '1.25.0', '>=')).toBe(true);
    expect(versionSatisfies('v1.24.9', '1.25.0', 'ge')).toBe(false);
    expect(versionSatisfies('v1.24.9', '1.25.0', '!=')).toBe(true);
  });
});
