import { describe, expect, it } from '@jest/globals';
import { checkHealth } from '../../../src/observe/health.js';

const ok = () => ({ ok: true });

describe('checkHealth', () => {
  it('answers ok when every check passes', async () => {
    expect(await checkHealth('readyz', { informer: ok, leader: ok }, { verbose: false })).toEqual({
      status: 200,
      body: 'ok',
    });
  });

  it('lists every check when verbose', async () => {
    expect(await checkHealth('readyz', { informer: ok, leader: ok }, { verbose: true })).toEqual({
      status: 200,
      body: '[+]informer ok\n[+]leader ok\nreadyz check passed\n',
    });
  });

  it('names the failing checks and their reasons', async () => {
    const checks = {
      informer: ok,
      watch: () => ({ ok: false, reason: 'no event for 5m0s' }),
      crd: async () => {
        throw new Error('crd not established');
      },
    };
    expect(await checkHealth('readyz', checks, { verbose: false })).toEqual({
      status: 503,
      body: '[-]watch failed: no event for 5m0s\n[-]crd failed: crd not established\nreadyz check failed\n',
    });
    expect((await checkHealth('readyz', checks, { verbose: true })).body).toBe(
      '[+]informer ok\n[-]watch failed: no event for 5m0s\n[-]crd failed: crd not established\nreadyz check failed\n',
    );
  });

  it('names a single check after its endpoint and fails a check that does not answer', async () => {
    const never = () => new Promise<{ ok: boolean }>(() => undefined);
    expect(await checkHealth('healthz', never, { verbose: false, timeoutMs: 20 })).toEqual({
      status: 503,
      body: '[-]healthz failed: no answer within 20ms\nhealthz check failed\n',
    });
  });
});
