import { describe, expect, it } from '@jest/globals';
import { isSecretKey, redact, REDACTED } from '../../../src/observe/redact.js';

describe('isSecretKey', () => {
  it.each([
    'password',
    'adminPassword',
    'db_passwd',
    'token',
    'bearerToken',
    'bearer_token',
    'secret',
    'clientSecret',
    'apiKey',
    'api_key',
    'X-API-Key',
    'Authorization',
    'bearer',
    'privateKey',
    'private_key',
    'tls.key',
    'ca.key',
    'clientKey',
    'client-key-data',
  ])('treats %s as secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    'caBundle',
    'tls.crt',
    'key',
    'secretName',
    'bearer_token_file',
    'tokenCount',
    'name',
    'client-certificate-data',
  ])('does not treat %s as secret', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('redact', () => {
  it('hides secret keys at any depth and keeps everything else', () => {
    const input = {
      name: 'prometheus',
      spec: {
        endpoints: [{ basicAuth: { username: 'admin', password: 'hunter2' }, bearer_token: 'abc' }],
        tls: { 'tls.key': 'PRIVATE', 'tls.crt': 'CERT', caBundle: 'CA' },
      },
      users: [{ user: { 'client-key-data': 'KEYDATA', 'client-certificate-data': 'CERTDATA' } }],
    };
    expect(redact(input)).toEqual({
      name: 'prometheus',
      spec: {
        endpoints: [{ basicAuth: { username: 'admin', password: REDACTED }, bearer_token: REDACTED }],
        tls: { 'tls.key': REDACTED, 'tls.crt': 'CERT', caBundle: 'CA' },
      },
      users: [{ user: { 'client-key-data': REDACTED, 'client-certificate-data': 'CERTDATA' } }],
    });
    expect(input.spec.endpoints[0]?.basicAuth.password).toBe('hunter2');
  });

  it('hides a whole value under a secret key, objects included, but keeps absent values absent', () => {
    expect(redact({ secret: { name: 'x', data: 'y' }, token: undefined, password: null })).toEqual({
      secret: REDACTED,
      token: undefined,
      password: null,
    });
  });

  it('hides the data of a Kubernetes Secret, wherever it is', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'kube-etcd-client-certs',
        namespace: 'kubesphere-monitoring-system',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"etcd-client.crt":"c2VjcmV0"}}',
          owner: 'ks-installer',
        },
      },
      type: 'Opaque',
      data: { 'etcd-client-ca.crt': 'Q0E=', 'etcd-client.crt': 'Q0VSVA==' },
      stringData: { 'config.yaml': 'user: admin' },
    };
    const out = redact({ items: [secret] }) as { items: (typeof secret)[] };
    const [shown] = out.items;
    expect(shown?.data).toEqual({ 'etcd-client-ca.crt': REDACTED, 'etcd-client.crt': REDACTED });
    expect(shown?.stringData).toEqual({ 'config.yaml': REDACTED });
    expect(shown?.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': REDACTED,
      owner: 'ks-installer',
    });
    expect(shown?.metadata.name).toBe('kube-etcd-client-certs');
    expect(shown?.type).toBe('Opaque');
    expect(JSON.stringify(out)).not.toMatch(/Q0VSVA|Q0E=|admin|c2VjcmV0/);
  });

  it('leaves a ConfigMap data alone', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', data: { 'config.yaml': 'a: 1' } };
    expect(redact(cm)).toEqual(cm);
  });

  it('hides bearer strings, binary data and cycles', () => {
    const cyclic: Record<string, unknown> = { header: 'Bearer eyJhbGciOi', note: 'Bearer' };
    cyclic['self'] = cyclic;
    expect(redact(cyclic)).toEqual({ header: `Bearer ${REDACTED}`, note: 'Bearer', self: '[circular]' });
    expect(redact({ blob: Buffer.from('abc') })).toEqual({ blob: '[3 bytes]' });
  });

  it('keeps errors and dates for the formatter', () => {
    const err = new Error('boom');
    const when = new Date(0);
    const out = redact({ err, when }) as { err: unknown; when: unknown };
    expect(out.err).toBe(err);
    expect(out.when).toBe(when);
  });
});
