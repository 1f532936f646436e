import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, JSON_ONLY } from '../../../src/observe/logger.js';

function capture(format: 'text' | 'json'): { lines: () => string[]; log: ReturnType<typeof createLogger> } {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const log = createLogger({ format, stream, now: () => new Date('2026-11-22T10:00:00.000Z') });
  return { log, lines: () => out.trim().split('\n') };
}

describe('fields for machines only', () => {
  it('are left out of text lines, where the message already says it', async () => {
    const { log, lines } = capture('text');
    log.info('[3/7] kube-state-metrics: 8 objects (2 changed, 6 unchanged) in 0.31s', {
      [JSON_ONLY]: { role: 'kube-state-metrics', changed: 2 },
    });
    await new Promise((r) => setImmediate(r));
    expect(lines()).toEqual([
      '2026-11-22T10:00:00.000Z info  [3/7] kube-state-metrics: 8 objects (2 changed, 6 unchanged) in 0.31s',
    ]);
  });

  it('are spread into JSON lines as ordinary fields', async () => {
    const { log, lines } = capture('json');
    log.info('[3/7] kube-state-metrics: done', {
      generation: 4,
      [JSON_ONLY]: { role: 'kube-state-metrics', changed: 2 },
    });
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(lines()[0]!)).toEqual({
      time: '2026-11-22T10:00:00.000Z',
      level: 'info',
      msg: '[3/7] kube-state-metrics: done',
      generation: 4,
      role: 'kube-state-metrics',
      changed: 2,
    });
  });
});
