import { beforeAll, describe, expect, it } from '@jest/globals';
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { ServingBundle } from '../../../src/pki/index.js';
import {
  certificateInfo,
  checkServingPair,
  createAuthority,
  dnsNameCovers,
  exportAuthority,
  isUsableServingPair,
  issueCertificate,
  serviceDnsNames,
} from '../../../src/pki/index.js';

const NAME = 'notification-manager-webhook.kubesphere-monitoring-system.svc';
const NOW = new Date('2031-01-01T00:00:00Z');
const DAY = 24 * 60 * 60 * 1000;

async function bundle(
  days = 365,
  dnsNames = serviceDnsNames('notification-manager-webhook', 'kubesphere-monitoring-system'),
) {
  const ca = await createAuthority('webhook-ca', days, NOW);
  const serving = await issueCertificate(ca, {
    commonName: 'notification-manager-webhook',
    dnsNames,
    usage: 'server',
    days,
    now: NOW,
  });
  return {
    ca,
    pair: { caCert: ca.cert, tlsCert: serving.cert, tlsKey: serving.key } satisfies ServingBundle,
  };
}

describe('certificateInfo', () => {
  it('reports subject, issuer, SANs, validity and CA flag', async () => {
    const { pair } = await bundle();
    const info = certificateInfo(pair.tlsCert);
    expect(info.subject).toBe('CN=notification-manager-webhook');
    expect(info.commonName).toBe('notification-manager-webhook');
    expect(info.issuer).toBe('CN=webhook-ca');
    expect(info.dnsNames).toContain(NAME);
    expect(info.notAfter.getTime()).toBe(NOW.getTime() + 365 * DAY);
    expect(info.isCa).toBe(false);
    expect(info.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const caInfo = certificateInfo(pair.caCert);
    expect(caInfo.isCa).toBe(true);
    expect(caInfo.dnsNames).toEqual([]);
    expect(caInfo.extendedKeyUsage).toEqual([]);
  });

  it('throws on something that is not a certificate', () => {
    expect(() =>
      certificateInfo('-----BEGIN CERTIFICATE-----\nFIXED-CA\n-----END CERTIFICATE-----\n'),
    ).toThrow();
  });
});

describe('checkServingPair', () => {
  let pair: ServingBundle;
  beforeAll(async () => {
    pair = (await bundle()).pair;
  });

  it('keeps a pair that is signed, matching, covering and long enough valid', () => {
    expect(checkServingPair(pair, NAME, 30, NOW)).toEqual({
      usable: true,
      notAfter: new Date(NOW.getTime() + 365 * DAY),
    });
    expect(isUsableServingPair(pair, NAME, 30, NOW)).toBe(true);
  });

  it('rejects a serving certificate from another CA', async () => {
    const other = (await bundle()).pair;
    const mixed = { ...pair, caCert: other.caCert };
    expect(checkServingPair(mixed, NAME, 30, NOW)).toEqual({
      usable: false,
      reason: 'the serving certificate is not signed by the CA',
    });
    expect(isUsableServingPair(mixed, NAME, 30, NOW)).toBe(false);
  });

  it('rejects a key that belongs to another certificate', async () => {
    const other = (await bundle()).pair;
    expect(checkServingPair({ ...pair, tlsKey: other.tlsKey }, NAME, 30, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/private key does not belong/),
    });
  });

  it('rejects a certificate that does not cover the name', () => {
    expect(checkServingPair(pair, 'notification-manager-webhook.elsewhere.svc', 30, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/does not cover notification-manager-webhook.elsewhere.svc/),
    });
  });

  it('rejects a pair that expires too soon, or is not valid yet', () => {
    expect(isUsableServingPair(pair, NAME, 364, NOW)).toBe(true);
    expect(checkServingPair(pair, NAME, 366, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/expires at/),
    });
    expect(isUsableServingPair(pair, NAME, 30, new Date(NOW.getTime() + 340 * DAY))).toBe(false);
    expect(checkServingPair(pair, NAME, 30, new Date(NOW.getTime() - 2 * DAY))).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/not valid before/),
    });
  });

  it('rejects a CA that expires too soon even when the serving certificate lasts longer', async () => {
    const shortCa = await createAuthority('short', 20, NOW);
    // A leaf made by hand so that it outlives its CA (issueCertificate never does that).
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'CN=leaf',
      issuer: shortCa.certificate.subject,
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      publicKey: keys.publicKey as never,
      signingKey: shortCa.privateKey as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: NAME }])],
    });
    const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
    const stretched = {
      caCert: (await exportAuthority(shortCa)).cert,
      tlsCert: leaf.toString('pem'),
      tlsKey: `-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----\n`,
    };
    expect(isUsableServingPair(stretched, NAME, 10, NOW)).toBe(true);
    expect(checkServingPair(stretched, NAME, 30, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/^the CA certificate expires at/),
    });
  });

  it('rejects a CA that is not a CA, and unparsable input', () => {
    expect(checkServingPair({ ...pair, caCert: pair.tlsCert }, NAME, 1, NOW)).toMatchObject({
      usable: false,
      reason: 'the CA certificate is not a CA',
    });
    expect(checkServingPair({ ...pair, tlsCert: 'garbage' }, NAME, 1, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/serving certificate cannot be parsed/),
    });
    expect(checkServingPair({ ...pair, tlsKey: '' }, NAME, 1, NOW)).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/private key cannot be parsed/),
    });
    expect(isUsableServingPair({ caCert: '', tlsCert: '', tlsKey: '' }, NAME, 1, NOW)).toBe(false);
  });

  it('accepts a wildcard SAN for one label only', async () => {
    const wildcard = (await bundle(365, ['*.kubesphere-monitoring-system.svc'])).pair;
    expect(
      isUsableServingPair(wildcard, 'notification-manager-webhook.kubesphere-monitoring-system.svc', 1, NOW),
    ).toBe(true);
    expect(isUsableServingPair(wildcard, 'a.b.kubesphere-monitoring-system.svc', 1, NOW)).toBe(false);
  });
});

describe('dnsNameCovers', () => {
  it('matches exactly, case-insensitively, and single-label wildcards', () => {
    expect(dnsNameCovers('a.example', 'A.Example')).toBe(true);
    expect(dnsNameCovers('a.example', 'a.example.')).toBe(true);
    expect(dnsNameCovers('*.example', 'a.example')).toBe(true);
    expect(dnsNameCovers('*.example', 'example')).toBe(false);
    expect(dnsNameCovers('*.example', 'a.b.example')).toBe(false);
    expect(dnsNameCovers('b.example', 'a.example')).toBe(false);
  });
});
