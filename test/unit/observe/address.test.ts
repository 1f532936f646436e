import { describe, expect, it } from '@jest/globals';
import { formatHostPort, parseListenAddress } from '../../../src/observe/address.js';

describe('parseListenAddress', () => {
  it('reads Go-style addresses', () => {
    expect(parseListenAddress(':8081')).toEqual({ host: undefined, port: 8081 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('localhost:8080')).toEqual({ host: 'localhost', port: 8080 });
    expect(parseListenAddress('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
  });

  it('treats 0 and empty as disabled', () => {
    expect(parseListenAddress('0')).toBeNull();
    expect(parseListenAddress('')).toBeNull();
    expect(parseListenAddress('  ')).toBeNull();
  });

  it('rejects what Go would reject, saying why', () => {
    expect(() => parseListenAddress('8080')).toThrow(/"8080": missing port/);
    expect(() => parseListenAddress(':http')).toThrow(/bad port "http"/);
    expect(() => parseListenAddress(':70000')).toThrow(/bad port "70000"/);
    expect(() => parseListenAddress('::1:80')).toThrow(/brackets/);
  });

  it('formats host and port for logs', () => {
    expect(formatHostPort('::', 8081)).toBe('[::]:8081');
    expect(formatHostPort('127.0.0.1', 8080)).toBe('127.0.0.1:8080');
  });
});
