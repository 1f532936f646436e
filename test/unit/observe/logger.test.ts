import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, parseLogFormat, parseLogLevel } from '../../../src/observe/logger.js';
import type { LoggerOptions } from '../../../src/observe/logger.js';

const NOW = new Date('2026-11-22T10:00:00.123Z');

/** A logger writing to memory; lines() waits for winston to pass the writes on. */
function capture(options: LoggerOptions = {}) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const log = createLogger({ now: () => NOW, ...options, stream });
  return {
    log,
    async lines(): Promise<string[]> {
      await new Promise((resolve) => setImmediate(resolve));
      return text.split('\n').filter((l) => l !== '');
    },
  };
}

describe('text format', () => {
  it('writes time, padded level, message and fields, quoting only when needed', async () => {
    const { log, lines } = capture();
    log.info('run started', {
      trigger: 'spec changed',
      generation: 3,
      leader: true,
      cc: 'kubesphere-system/ks-installer',
    });
    log.warn('pvc shrink refused', { pvc: 'prometheus-k8s-db', quote: 'say "hi"', empty: '' });
    log.error('apply failed', { eq: 'a=b' });
    expect(await lines()).toEqual([
      '2026-11-22T10:00:00.123Z info  run started trigger="spec changed" generation=3 leader=true cc=kubesphere-system/ks-installer',
      '2026-11-22T10:00:00.123Z warn  pvc shrink refused pvc=prometheus-k8s-db quote="say \\"hi\\"" empty=""',
      '2026-11-22T10:00:00.123Z error apply failed eq="a=b"',
    ]);
  });

  it('keeps one line per event and flattens nested fields to dotted keys', async () => {
    const { log, lines } = capture();
    log.info('two\nlines', { role: { name: 'prometheus', index: 3 }, nodes: ['a', 'b'], note: 'x\ny' });
    expect(await lines()).toEqual([
      '2026-11-22T10:00:00.123Z info  two\\nlines role.name=prometheus role.index=3 nodes="[\\"a\\",\\"b\\"]" note="x\\ny"',
    ]);
  });

  it('filters by level', async () => {
    const { log, lines } = capture({ level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect((await lines()).map((l) => l.split(' ').slice(1).join(' '))).toEqual(['warn  w', 'error e']);
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
  });

  it('adds child fields to every event, the call fields winning', async () => {
    const { log, lines } = capture();
    const child = log.child({ role: 'prometheus', step: 1 }).child({ step: 2 });
    child.info('applied', { objects: 8 });
    child.info('again', { step: 3 });
    expect(await lines()).toEqual([
      '2026-11-22T10:00:00.123Z info  applied role=prometheus step=2 objects=8',
      '2026-11-22T10:00:00.123Z info  again role=prometheus step=3',
    ]);
  });

  it('redacts secrets at any depth and Secret objects', async () => {
    const { log, lines } = capture();
    log.info('applying', {
      password: 'hunter2',
      auth: { basic: { user: 'admin', password: 'p@ss' }, 'tls.key': 'KEY' },
      object: { kind: 'Secret', metadata: { name: 'etcd' }, data: { 'client.crt': 'Q0VSVA==' } },
    });
    const [line] = await lines();
    expect(line).toBe(
      '2026-11-22T10:00:00.123Z info  applying password=[redacted] auth.basic.user=admin ' +
        'auth.basic.password=[redacted] auth.tls.key=[redacted] object.kind=Secret object.metadata.name=etcd ' +
        'object.data.client.crt=[redacted]',
    );
    expect(line).not.toMatch(/hunter2|p@ss|KEY|Q0VSVA/);
  });

  it('prints an error field as its message with causes, the stack only at debug', async () => {
    const err = new Error('apply failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
    const info = capture({ level: 'info' });
    info.log.error('run failed', { err });
    expect(await info.lines()).toEqual([
      '2026-11-22T10:00:00.123Z error run failed err="apply failed: connect ECONNREFUSED 127.0.0.1:6443"',
    ]);

    const debug = capture({ level: 'debug' });
    debug.log.error('run failed', { err });
    const [line] = await debug.lines();
    expect(line).toMatch(
      / err="apply failed: connect ECONNREFUSED 127\.0\.0\.1:6443" errStack="Error: apply failed\\n {4}at /,
    );
  });
});

describe('json format', () => {
  it('writes one object per line with time, level, msg and the fields', async () => {
    const { log, lines } = capture({ format: 'json' });
    log.child({ role: 'kube-state-metrics' }).info('[3/7] kube-state-metrics: 8 objects', {
      changed: 2,
      unchanged: 6,
      seconds: 0.31,
      token: 'abc',
      nested: { apiKey: 'k', keep: 'v' },
      msg: 'clash',
    });
    const out = await lines();
    expect(out).toHaveLength(1);
    expect(
      out[0]?.startsWith('{"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"[3/7] kube-state-metrics'),
    ).toBe(true);
    expect(JSON.parse(out[0] ?? '')).toEqual({
      time: '2026-11-22T10:00:00.123Z',
      level: 'info',
      msg: '[3/7] kube-state-metrics: 8 objects',
      role: 'kube-state-metrics',
      changed: 2,
      unchanged: 6,
      seconds: 0.31,
      token: '[redacted]',
      nested: { apiKey: '[redacted]', keep: 'v' },
      _msg: 'clash',
    });
  });

  it('writes errors as their message, nested ones too, and the stack at debug', async () => {
    const info = capture({ format: 'json' });
    info.log.error('failed', { err: new Error('boom'), detail: { cause: new Error('inner') } });
    expect(JSON.parse((await info.lines())[0] ?? '')).toEqual({
      time: '2026-11-22T10:00:00.123Z',
      level: 'error',
      msg: 'failed',
      err: 'boom',
      detail: { cause: 'inner' },
    });

    const debug = capture({ format: 'json', level: 'debug' });
    debug.log.error('failed', { err: new Error('boom') });
    const record = JSON.parse((await debug.lines())[0] ?? '') as Record<string, unknown>;
    expect(record['err']).toBe('boom');
    expect(String(record['errStack'])).toMatch(/^Error: boom\n {4}at /);
  });
});

describe('flag parsing', () => {
  it('accepts the known levels and formats', () => {
    expect(parseLogLevel('DEBUG')).toBe('debug');
    expect(parseLogLevel('warning')).toBe('warn');
    expect(parseLogFormat('json')).toBe('json');
    expect(() => parseLogLevel('trace')).toThrow(/error, warn, info, debug/);
    expect(() => parseLogFormat('yaml')).toThrow(/text, json/);
  });
});
