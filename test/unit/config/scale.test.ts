/**
 * The keys of docs/install.md#outgrowing-one-prometheus, refused before anything is applied: shards,
 * remoteWrite (against the Prometheus CRD's RemoteWriteSpec, secrets by reference only),
 * additionalScrapeConfigs and monitoring.thanos. Each bad value names its field and the fix.
 */
import { describe, expect, it } from '@jest/globals';
import { crdSpecSchema, schemaProblems } from '../../../src/config/crd-schema.js';
import type { FieldProblem } from '../../../src/config/validate.js';
import { validateSpec } from '../../../src/config/validate.js';
import { PROMETHEUS_CRD_FILE } from '../../../src/config/scale.js';

const OBJSTORE = { name: 'thanos-objstore', key: 'objstore.yml' };
const THANOS = { enabled: true, objectStorageConfig: OBJSTORE };

function spec(
  prometheus: Record<string, unknown> = {},
  thanos?: Record<string, unknown>,
): Record<string, unknown> {
  return { monitoring: { prometheus, ...(thanos ? { thanos } : {}) } };
}

const rw = (...items: unknown[]) => spec({ remoteWrite: items });

/** The one problem of a spec (fails when there are none or several). */
function one(s: Record<string, unknown>): FieldProblem {
  const problems = validateSpec(s);
  expect(problems.map((p) => p.field)).toHaveLength(1);
  return problems[0]!;
}

describe('monitoring.prometheus.shards', () => {
  it('takes a whole number of 1 or more; 1 needs nothing else, more needs Thanos', () => {
    expect(validateSpec(spec({ shards: 1 }))).toEqual([]);
    expect(validateSpec(spec({ shards: null }))).toEqual([]);
    expect(validateSpec(spec({ shards: 3 }, THANOS))).toEqual([]);
  });

  it.each([
    [0, 'is less than 1'],
    [-2, 'is less than 1'],
    [1.5, 'is not a whole number'],
    ['2', 'is not a whole number'],
    [true, 'is not a whole number'],
    [2 ** 31, 'is out of range'],
  ])('refuses %p (%s)', (value, reason) => {
    const p = one(spec({ shards: value }, THANOS));
    expect(p.field).toBe('spec.monitoring.prometheus.shards');
    expect(p.message).toContain(reason);
    expect(p.fix).toContain('spec.monitoring.prometheus.shards');
  });

  it('refuses more than one shard without Thanos, naming both ways out', () => {
    const p = one(spec({ shards: 2 }));
    expect(p.field).toBe('spec.monitoring.prometheus.shards');
    expect(p.message).toContain('needs Thanos');
    expect(p.fix).toContain('spec.monitoring.thanos.enabled: true');
    expect(p.fix).toContain('set spec.monitoring.prometheus.shards to 1');
    expect(one(spec({ shards: 2 }, { enabled: false, objectStorageConfig: OBJSTORE })).field).toBe(
      'spec.monitoring.prometheus.shards',
    );
  });
});

describe('monitoring.prometheus.remoteWrite', () => {
  const url = 'https://metrics.example.com/api/v1/write';

  it('takes RemoteWriteSpec items with secrets by reference', () => {
    expect(
      validateSpec(
        rw(
          { url },
          {
            url: 'http://receive.example:19291/api/v1/receive',
            name: 'receive',
            remoteTimeout: '30s',
            basicAuth: { username: { name: 'rw', key: 'user' }, password: { name: 'rw', key: 'password' } },
            queueConfig: { maxShards: 10, batchSendDeadline: '5s' },
            writeRelabelConfigs: [{ action: 'keep', sourceLabels: ['__name__'], regex: 'node_.*' }],
            headers: { 'X-Scope-OrgID': 'kubesphere' },
            tlsConfig: { ca: { secret: { name: 'rw-tls', key: 'ca.crt' } }, serverName: 'metrics' },
          },
          { url, authorization: { type: 'Bearer', credentials: { name: 'rw-token', key: 'token' } } },
          { url, bearerTokenFile: '/etc/prometheus/secrets/rw/token' },
        ),
      ),
    ).toEqual([]);
    expect(validateSpec(spec({ remoteWrite: null }))).toEqual([]);
    expect(validateSpec(spec({ remoteWrite: [] }))).toEqual([]);
  });

  it('reads its schema from the Prometheus CRD we install (prometheus-operator v0.55 RemoteWriteSpec)', () => {
    const schema = crdSpecSchema(PROMETHEUS_CRD_FILE, 'remoteWrite');
    expect(schema.type).toBe('array');
    expect(schema.items?.required).toEqual(['url']);
    expect(Object.keys(schema.items?.properties ?? {})).toEqual(
      expect.arrayContaining([
        'url',
        'basicAuth',
        'authorization',
        'queueConfig',
        'writeRelabelConfigs',
        'sigv4',
      ]),
    );
    expect(schemaProblems(schema, [{ url }])).toEqual([]);
  });

  it.each<[string, unknown, string, string]>([
    ['not a list', { url }, 'spec.monitoring.prometheus.remoteWrite', 'is not a list'],
    ['an item without url', { name: 'x' }, 'spec.monitoring.prometheus.remoteWrite[0].url', 'is missing'],
    [
      'a url that is not a string',
      { url: 5 },
      'spec.monitoring.prometheus.remoteWrite[0].url',
      'is not a string',
    ],
    [
      'a url that is not http',
      { url: 'ftp://x/y' },
      'spec.monitoring.prometheus.remoteWrite[0].url',
      'not an http',
    ],
    [
      'a misspelt field',
      { url, queueConfg: {} },
      'spec.monitoring.prometheus.remoteWrite[0].queueConfg',
      'is not a field here',
    ],
    [
      'a wrong type deep down',
      { url, queueConfig: { maxShards: 'ten' } },
      'spec.monitoring.prometheus.remoteWrite[0].queueConfig.maxShards',
      'is not a whole number',
    ],
    [
      'a relabel action upstream does not know',
      { url, writeRelabelConfigs: [{ action: 'keepall' }] },
      'spec.monitoring.prometheus.remoteWrite[0].writeRelabelConfigs[0].action',
      'is not one of',
    ],
    [
      'a source label that is not a label name',
      { url, writeRelabelConfigs: [{ sourceLabels: ['a-b'] }] },
      'spec.monitoring.prometheus.remoteWrite[0].writeRelabelConfigs[0].sourceLabels[0]',
      'does not match',
    ],
    [
      'a secret reference without key',
      { url, basicAuth: { password: { name: 'rw' } } },
      'spec.monitoring.prometheus.remoteWrite[0].basicAuth.password.key',
      'is missing',
    ],
    [
      'a secret reference without name',
      { url, basicAuth: { password: { key: 'p' } } },
      'spec.monitoring.prometheus.remoteWrite[0].basicAuth.password.name',
      'does not name a Secret',
    ],
    [
      'a password written inline',
      { url, basicAuth: { password: 'hunter2' } },
      'spec.monitoring.prometheus.remoteWrite[0].basicAuth.password',
      'is not a mapping',
    ],
    [
      'a bad duration',
      { url, remoteTimeout: '30 seconds' },
      'spec.monitoring.prometheus.remoteWrite[0].remoteTimeout',
      'is not a Prometheus duration',
    ],
  ])('refuses %s', (_what, item, field, reason) => {
    // The first case is the list itself; the others are one item of it.
    const problems = validateSpec(field.endsWith('remoteWrite') ? spec({ remoteWrite: item }) : rw(item));
    const found = problems.find((p) => p.field === field);
    expect([field, found?.message]).toEqual([field, expect.stringContaining(reason)]);
    expect(found?.fix).toContain('spec.monitoring.prometheus.remoteWrite');
  });

  it('refuses an inline bearerToken and never prints it', () => {
    const p = one(rw({ url, bearerToken: 's3cr3t-token' }));
    expect(p.field).toBe('spec.monitoring.prometheus.remoteWrite[0].bearerToken');
    expect(p.message).toContain('inline credential');
    expect(p.fix).toContain('authorization: {type: Bearer, credentials: {name: <Secret>, key: <key>}}');
    expect(JSON.stringify(p)).not.toContain('s3cr3t-token');
  });

  it('refuses a credential header and credentials in the URL, never printing them', () => {
    const header = one(rw({ url, headers: { Authorization: 'Bearer s3cr3t' } }));
    expect(header.field).toBe('spec.monitoring.prometheus.remoteWrite[0].headers.Authorization');
    const inUrl = one(rw({ url: 'https://user:s3cr3t@metrics.example.com/write' }));
    expect(inUrl.field).toBe('spec.monitoring.prometheus.remoteWrite[0].url');
    expect(inUrl.message).toContain('carries credentials');
    expect(JSON.stringify([header, inUrl])).not.toContain('s3cr3t');
  });

  it('refuses two remote writes of one name', () => {
    const p = one(rw({ url, name: 'a' }, { url, name: 'a' }));
    expect(p.field).toBe('spec.monitoring.prometheus.remoteWrite[1].name');
  });
});

describe('monitoring.prometheus.additionalScrapeConfigs', () => {
  const field = 'spec.monitoring.prometheus.additionalScrapeConfigs';

  it('takes a Secret key reference', () => {
    expect(
      validateSpec(spec({ additionalScrapeConfigs: { name: 'extra', key: 'prometheus-additional.yaml' } })),
    ).toEqual([]);
  });

  it.each<[string, unknown, string, string]>([
    ['inline scrape configurations', [{ job_name: 'consul' }], field, 'written inline'],
    ['a string', 'extra', field, 'is not a Secret key reference'],
    ['no key', { name: 'extra' }, `${field}.key`, 'is not a key of a Secret'],
    ['no name', { key: 'a.yaml' }, `${field}.name`, 'is not the name of a Secret'],
    [
      'a name that is not a Secret name',
      { name: 'Extra_Configs', key: 'a.yaml' },
      `${field}.name`,
      'is not a valid name',
    ],
    ['a key with a slash', { name: 'extra', key: 'a/b.yaml' }, `${field}.key`, 'is not a Secret data key'],
    [
      'another field',
      { name: 'extra', key: 'a.yaml', namespace: 'default' },
      `${field}.namespace`,
      'is not a field',
    ],
  ])('refuses %s', (_what, value, expectedField, reason) => {
    const p = one(spec({ additionalScrapeConfigs: value }));
    expect([p.field, p.message]).toEqual([expectedField, expect.stringContaining(reason)]);
    expect(p.fix).toContain('Secret');
  });
});

describe('monitoring.thanos', () => {
  it('takes enabled with an object-storage Secret reference, and false or nothing', () => {
    expect(validateSpec(spec({}, THANOS))).toEqual([]);
    expect(validateSpec(spec({}, { enabled: false }))).toEqual([]);
    expect(
      validateSpec(
        spec({}, { ...THANOS, query: { replicas: 3 }, store: { resources: { limits: { memory: '8Gi' } } } }),
      ),
    ).toEqual([]);
  });

  it.each<[string, unknown, string, string]>([
    [
      'enabled quoted',
      { enabled: 'true', objectStorageConfig: OBJSTORE },
      'spec.monitoring.thanos.enabled',
      'is not true or false',
    ],
    ['no object storage', { enabled: true }, 'spec.monitoring.thanos.objectStorageConfig', 'is missing'],
    [
      'an object storage without key',
      { enabled: true, objectStorageConfig: { name: 'x' } },
      'spec.monitoring.thanos.objectStorageConfig.key',
      'is not a key',
    ],
    ['a thanos that is not a mapping', 'on', 'spec.monitoring.thanos', 'is not a mapping'],
    [
      'query replicas below 0',
      { ...THANOS, query: { replicas: -1 } },
      'spec.monitoring.thanos.query.replicas',
      'is not a whole number',
    ],
    [
      'store memory that is no quantity',
      { ...THANOS, store: { resources: { limits: { memory: 'lots' } } } },
      'spec.monitoring.thanos.store.resources.limits.memory',
      'is not a Kubernetes quantity',
    ],
  ])('refuses %s', (_what, thanos, field, reason) => {
    const p = one({ monitoring: { thanos } });
    expect([p.field, p.message]).toEqual([field, expect.stringContaining(reason)]);
    expect(p.fix).toContain(field.replace(/\.(key|name)$/, '').replace(/^spec\./, 'spec.'));
  });

  it('refuses an object-storage configuration written inline, without printing its keys', () => {
    const p = one({
      monitoring: {
        thanos: {
          enabled: true,
          objectStorageConfig: { type: 'S3', config: { bucket: 'b', secret_key: 'AKIAs3cr3t' } },
        },
      },
    });
    expect(p.field).toBe('spec.monitoring.thanos.objectStorageConfig');
    expect(p.message).toContain('written inline');
    expect(p.fix).toContain('kubectl create secret generic thanos-objstore');
    expect(JSON.stringify(p)).not.toContain('AKIAs3cr3t');
  });
});
