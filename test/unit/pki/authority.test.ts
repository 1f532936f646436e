import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildCertificate, commonNameOnly, keyIdentifier, toPem } from '../../../src/pki/certificate.js';
import { readCertificate, readElement } from '../../../src/pki/der-reader.js';
import { basicConstraints, keyUsage, OID, subjectKeyIdentifier } from '../../../src/pki/extensions.js';
import {
  certificateInfo,
  createCa,
  createServingBundle,
  issueServingCert,
  serviceDnsNames,
} from '../../../src/pki/index.js';

const WEBHOOK_NAMES = serviceDnsNames('notification-manager-webhook', 'kubesphere-monitoring-system');
const NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 24 * 60 * 60 * 1000;

function extension(pem: string, oid: string) {
  const found = readCertificate(new X509Certificate(pem).raw).extensions.find((e) => e.oid === oid);
  if (!found) throw new Error(`extension ${oid} missing`);
  return found;
}

describe('createCa', () => {
  const ca = createCa({ commonName: 'notification-manager-webhook-ca', days: 3650, now: NOW });
  const cert = new X509Certificate(ca.cert);

  it('makes a self-signed CA certificate that node parses and verifies', () => {
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=notification-manager-webhook-ca');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('starts an hour early and lasts the requested days', () => {
    const info = certificateInfo(ca.cert);
    expect(info.notBefore.getTime()).toBe(NOW.getTime() - 60 * 60 * 1000);
    expect(info.notAfter.getTime()).toBe(NOW.getTime() + 3650 * DAY);
  });

  it('carries critical CA basicConstraints, certificate-signing key usage and matching key identifiers', () => {
    const bc = extension(ca.cert, OID.basicConstraints);
    expect(bc.critical).toBe(true);
    expect(bc.value.toString('hex')).toBe('30060101ff020100'); // CA:TRUE, pathlen 0
    const ku = extension(ca.cert, OID.keyUsage);
    expect(ku.critical).toBe(true);
    expect(ku.value.toString('hex')).toBe('03020186'); // digitalSignature, keyCertSign, cRLSign
    const ski = readElement(extension(ca.cert, OID.subjectKeyIdentifier).value).content;
    expect(ski).toEqual(keyIdentifier(cert.publicKey.export({ type: 'spki', format: 'der' })));
    const aki = readElement(extension(ca.cert, OID.authorityKeyIdentifier).value);
    expect(readElement(aki.content).tag).toBe(0x80);
    expect(readElement(aki.content).content).toEqual(ski);
  });

  it('encodes validity past 2049 as GeneralizedTime that node still reads', () => {
    const long = createCa({ commonName: 'long-lived', days: 36500, now: NOW });
    expect(certificateInfo(long.cert).notAfter.getUTCFullYear()).toBe(2130);
  });

  it('refuses a non-positive validity and an empty common name', () => {
    expect(() => createCa({ commonName: 'x', days: 0 })).toThrow(/positive/);
    expect(() => createCa({ commonName: '', days: 1 })).toThrow(/common name/);
  });
});

describe('issueServingCert', () => {
  const ca = createCa({ commonName: 'webhook-ca', days: 3650, now: NOW });
  const caCert = new X509Certificate(ca.cert);
  const serving = issueServingCert(ca, {
    commonName: 'notification-manager-webhook',
    dnsNames: WEBHOOK_NAMES,
    days: 365,
    now: NOW,
  });
  const cert = new X509Certificate(serving.cert);

  it('is signed by the CA and matches its own key', () => {
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe('CN=webhook-ca');
    expect(cert.subject).toBe('CN=notification-manager-webhook');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(serving.key))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.key))).toBe(false);
  });

  it('carries the DNS SANs, serverAuth and an end-entity key usage', () => {
    const info = certificateInfo(serving.cert);
    expect(info.dnsNames).toEqual([
      'notification-manager-webhook',
      'notification-manager-webhook.kubesphere-monitoring-system',
      'notification-manager-webhook.kubesphere-monitoring-system.svc',
      'notification-manager-webhook.kubesphere-monitoring-system.svc.cluster.local',
    ]);
    expect(cert.subjectAltName).toContain(
      'DNS:notification-manager-webhook.kubesphere-monitoring-system.svc',
    );
    expect(info.extendedKeyUsage).toEqual([OID.serverAuth]);
    expect(cert.checkHost('notification-manager-webhook.kubesphere-monitoring-system.svc')).toBeDefined();
    const bc = extension(serving.cert, OID.basicConstraints);
    expect(bc.critical).toBe(true);
    expect(bc.value.toString('hex')).toBe('3000'); // CA:FALSE
    expect(extension(serving.cert, OID.keyUsage).value.toString('hex')).toBe('03020780'); // digitalSignature
  });

  it('names the CA key in authorityKeyIdentifier', () => {
    const caSki = readElement(extension(ca.cert, OID.subjectKeyIdentifier).value).content;
    const aki = readElement(readElement(extension(serving.cert, OID.authorityKeyIdentifier).value).content);
    expect(aki.content).toEqual(caSki);
    const ski = readElement(extension(serving.cert, OID.subjectKeyIdentifier).value).content;
    expect(ski).not.toEqual(caSki);
  });

  it('never outlives its CA', () => {
    const shortCa = createCa({ commonName: 'short', days: 10, now: NOW });
    const longServing = issueServingCert(shortCa, {
      commonName: 'x',
      dnsNames: ['x.example'],
      days: 100,
      now: NOW,
    });
    expect(certificateInfo(longServing.cert).notAfter).toEqual(certificateInfo(shortCa.cert).notAfter);
  });

  it('refuses bad issuers and bad names', () => {
    expect(() =>
      issueServingCert(
        { cert: serving.cert, key: serving.key },
        { commonName: 'x', dnsNames: ['x'], days: 1 },
      ),
    ).toThrow(/not a CA/);
    const other = createCa({ commonName: 'other', days: 1 });
    expect(() =>
      issueServingCert({ cert: ca.cert, key: other.key }, { commonName: 'x', dnsNames: ['x'], days: 1 }),
    ).toThrow(/does not belong/);
    expect(() => issueServingCert(ca, { commonName: 'x', dnsNames: [], days: 1 })).toThrow(/at least one/);
    expect(() => issueServingCert(ca, { commonName: 'x', dnsNames: ['Bad_Name'], days: 1 })).toThrow(
      /DNS name/,
    );
    expect(() => issueServingCert(ca, { commonName: 'x', dnsNames: ['ünicode.example'], days: 1 })).toThrow(
      /DNS name/,
    );
  });

  it('issues from an RSA CA made elsewhere, keeping its subject bytes and key identifier', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const name = commonNameOnly('rsa-ca');
    const foreignKeyId = Buffer.alloc(20, 7); // not the SHA-1 method: must be copied, not recomputed
    const der = buildCertificate(
      {
        subject: name,
        issuer: name,
        notBefore: new Date(NOW.getTime() - DAY),
        notAfter: new Date(NOW.getTime() + 30 * DAY),
        subjectPublicKeyInfo: spki,
        extensions: [
          basicConstraints({ pathLength: 0 }),
          keyUsage([5, 6]),
          subjectKeyIdentifier(foreignKeyId),
        ],
      },
      privateKey,
    );
    const rsaCa = {
      cert: toPem('CERTIFICATE', der),
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const leaf = issueServingCert(rsaCa, {
      commonName: 'leaf',
      dnsNames: ['leaf.example'],
      days: 7,
      now: NOW,
    });
    const leafCert = new X509Certificate(leaf.cert);
    expect(leafCert.verify(new X509Certificate(rsaCa.cert).publicKey)).toBe(true);
    expect(
      readElement(readElement(extension(leaf.cert, OID.authorityKeyIdentifier).value).content).content,
    ).toEqual(foreignKeyId);
  });
});

describe('createServingBundle', () => {
  it('returns a CA and a serving pair signed by it, without the CA key', () => {
    const bundle = createServingBundle({
      caCommonName: 'webhook-ca',
      commonName: 'notification-manager-webhook',
      dnsNames: WEBHOOK_NAMES,
      days: 3650,
    });
    expect(Object.keys(bundle).sort()).toEqual(['caCert', 'tlsCert', 'tlsKey']);
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.tlsCert);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(bundle.tlsKey))).toBe(true);
  });
});
