import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  certificateInfo,
  createAuthority,
  createServingBundle,
  exportAuthority,
  issueCertificate,
  serviceDnsNames,
} from '../../../src/pki/index.js';

const WEBHOOK_NAMES = serviceDnsNames('notification-manager-webhook', 'kubesphere-monitoring-system');
const NOW = new Date('2030-06-01T12:00:00Z');
const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function parsed(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

describe('createAuthority', () => {
  const made = createAuthority('notification-manager-webhook-ca', 3650, NOW);

  it('makes a self-signed CA certificate that node parses and verifies', async () => {
    const ca = await exportAuthority(await made);
    const cert = new X509Certificate(ca.cert);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=notification-manager-webhook-ca');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('starts an hour early and lasts the requested days', async () => {
    const info = certificateInfo((await made).cert);
    expect(info.notBefore.getTime()).toBe(NOW.getTime() - 60 * 60 * 1000);
    expect(info.notAfter.getTime()).toBe(NOW.getTime() + 3650 * DAY);
  });

  it('carries critical CA basicConstraints, certificate-signing key usage and matching key identifiers', async () => {
    const cert = parsed((await made).cert);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc).toMatchObject({ critical: true, ca: true, pathLength: 0 });
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(ski);
  });

  it('encodes validity past 2049 as GeneralizedTime that node still reads', async () => {
    const long = await createAuthority('long-lived', 36500, NOW);
    expect(certificateInfo(long.cert).notAfter.getUTCFullYear()).toBe(2130);
  });

  it('refuses a non-positive validity and an empty common name', async () => {
    await expect(createAuthority('x', 0)).rejects.toThrow(/positive/);
    await expect(createAuthority('', 1)).rejects.toThrow(/common name/);
  });
});

describe('issueCertificate', () => {
  const setup = (async () => {
    const ca = await createAuthority('webhook-ca', 3650, NOW);
    const serving = await issueCertificate(ca, {
      commonName: 'notification-manager-webhook',
      dnsNames: WEBHOOK_NAMES,
      usage: 'server',
      days: 365,
      now: NOW,
    });
    return { ca, caPem: await exportAuthority(ca), serving };
  })();

  it('is signed by the CA and matches its own key', async () => {
    const { caPem, serving } = await setup;
    const caCert = new X509Certificate(caPem.cert);
    const cert = new X509Certificate(serving.cert);
    expect(cert.ca).toBe(false);
    expect(cert.issuer).toBe('CN=webhook-ca');
    expect(cert.subject).toBe('CN=notification-manager-webhook');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(serving.key))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(caPem.key))).toBe(false);
  });

  it('carries the DNS SANs, serverAuth and an end-entity key usage', async () => {
    const { serving } = await setup;
    const info = certificateInfo(serving.cert);
    expect(info.dnsNames).toEqual([
      'notification-manager-webhook',
      'notification-manager-webhook.kubesphere-monitoring-system',
      'notification-manager-webhook.kubesphere-monitoring-system.svc',
      'notification-manager-webhook.kubesphere-monitoring-system.svc.cluster.local',
    ]);
    expect(info.extendedKeyUsage).toEqual([SERVER_AUTH]);
    const cert = new X509Certificate(serving.cert);
    expect(cert.checkHost('notification-manager-webhook.kubesphere-monitoring-system.svc')).toBeDefined();
    const p = parsed(serving.cert);
    expect(p.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ critical: true, ca: false });
    expect(p.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
  });

  it('names the CA key in authorityKeyIdentifier', async () => {
    const { caPem, serving } = await setup;
    const caSki = parsed(caPem.cert).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    const p = parsed(serving.cert);
    expect(p.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(caSki);
    expect(p.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId).not.toBe(caSki);
  });

  it('never outlives its CA', async () => {
    const shortCa = await createAuthority('short', 10, NOW);
    const longServing = await issueCertificate(shortCa, {
      commonName: 'x',
      dnsNames: ['x.example'],
      usage: 'server',
      days: 100,
      now: NOW,
    });
    expect(certificateInfo(longServing.cert).notAfter).toEqual(certificateInfo(shortCa.cert).notAfter);
  });

  it('refuses bad names', async () => {
    const { ca } = await setup;
    const serve = (dnsNames: string[]) =>
      issueCertificate(ca, { commonName: 'x', dnsNames, usage: 'server', days: 1 });
    await expect(serve([])).rejects.toThrow(/at least one/);
    await expect(serve(['Bad_Name'])).rejects.toThrow(/DNS name/);
    await expect(serve(['ünicode.example'])).rejects.toThrow(/DNS name/);
  });

  it('issues client certificates with organizations and IP serving certificates', async () => {
    const { ca } = await setup;
    const client = await issueCertificate(ca, {
      commonName: 'alice',
      organizations: ['system:masters'],
      usage: 'client',
      days: 1,
    });
    const c = new X509Certificate(client.cert);
    expect(c.subject).toBe('CN=alice\nO=system:masters');
    expect(certificateInfo(client.cert).extendedKeyUsage).toEqual([CLIENT_AUTH]);
    const server = await issueCertificate(ca, {
      commonName: 'apiserver',
      ips: ['127.0.0.1'],
      usage: 'server',
      days: 1,
    });
    expect(new X509Certificate(server.cert).checkIP('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('createServingBundle', () => {
  it('returns a CA and a serving pair signed by it, without the CA key', async () => {
    const bundle = await createServingBundle({
      caCommonName: 'notification-manager-webhook-ca',
      commonName: 'notification-manager-webhook',
      dnsNames: WEBHOOK_NAMES,
      days: 3650,
      now: NOW,
    });
    expect(Object.keys(bundle).sort()).toEqual(['caCert', 'tlsCert', 'tlsKey']);
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.tlsCert);
    expect(ca.ca).toBe(true);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(bundle.tlsKey))).toBe(true);
    expect(certificateInfo(bundle.tlsCert).notAfter.getTime()).toBe(NOW.getTime() + 3650 * DAY);
  });
});
