/**
 * A throw-away certificate authority and the serving certificates it issues, made with node:crypto
 * alone (the operator image need not carry openssl). Keys are ECDSA P-256, signatures SHA-256.
 */
import type { KeyObject } from 'node:crypto';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildCertificate, commonNameOnly, keyIdentifier, toPem } from './certificate.js';
import { readCertificate, readElement } from './der-reader.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  KEY_USAGE,
  keyUsage,
  OID,
  subjectAltNameDns,
  subjectKeyIdentifier,
} from './extensions.js';
import { validTo } from './x509-dates.js';

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export interface PemPair {
  cert: string;
  key: string;
}

export interface CaOptions {
  commonName: string;
  /** Validity from now, in days. */
  days: number;
  /** The moment the validity counts from; defaults to the current time. */
  now?: Date;
}

export interface ServingCertOptions {
  commonName: string;
  /** subjectAltName DNS entries; clients check the host name they dial against these. */
  dnsNames: string[];
  /** Validity from now, in days; never beyond the CA's own expiry. */
  days: number;
  now?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Start validity an hour early so nodes whose clocks lag a little accept a brand-new certificate. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`days must be a positive number, got ${days}`);
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

function newKeyPair(): { privateKey: KeyObject; subjectPublicKeyInfo: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, subjectPublicKeyInfo: publicKey.export({ type: 'spki', format: 'der' }) };
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A self-signed CA that may sign end-entity certificates only (path length 0). */
export function createCa(options: CaOptions): PemPair {
  const { notBefore, notAfter } = validity(options.days, options.now ?? new Date());
  const { privateKey, subjectPublicKeyInfo } = newKeyPair();
  const name = commonNameOnly(options.commonName);
  const keyId = keyIdentifier(subjectPublicKeyInfo);
  const der = buildCertificate(
    {
      subject: name,
      issuer: name,
      notBefore,
      notAfter,
      subjectPublicKeyInfo,
      extensions: [
        basicConstraints({ pathLength: 0 }),
        keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
        subjectKeyIdentifier(keyId),
        authorityKeyIdentifier(keyId),
      ],
    },
    privateKey,
  );
  return { cert: toPem('CERTIFICATE', der), key: privateKeyPem(privateKey) };
}

interface LoadedCa {
  certificate: X509Certificate;
  key: KeyObject;
  subject: Buffer;
  keyId: Buffer;
}

function loadCa(ca: PemPair): LoadedCa {
  const certificate = new X509Certificate(ca.cert);
  if (!certificate.ca)
    throw new Error('the issuing certificate is not a CA (basicConstraints CA:FALSE or missing)');
  const key = createPrivateKey(ca.key);
  if (!certificate.checkPrivateKey(key))
    throw new Error('the CA private key does not belong to the CA certificate');
  const fields = readCertificate(certificate.raw);
  const ski = fields.extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  // The authorityKeyIdentifier must repeat the CA's own SKI when it has one (OpenSSL checks the match).
  const keyId = ski ? readElement(ski.value).content : keyIdentifier(fields.subjectPublicKeyInfo);
  return { certificate, key, subject: fields.subject, keyId };
}

function checkDnsNames(dnsNames: string[]): void {
  if (dnsNames.length === 0) throw new Error('a serving certificate needs at least one DNS name');
  for (const name of dnsNames) {
    if (name.length > 253 || !DNS_NAME.test(name))
      throw new Error(`${JSON.stringify(name)} is not a lower-case DNS name`);
  }
}

/** A serving certificate (serverAuth) for `dnsNames`, signed by `ca`, with a fresh P-256 key. */
export function issueServingCert(ca: PemPair, options: ServingCertOptions): PemPair {
  checkDnsNames(options.dnsNames);
  const issuer = loadCa(ca);
  const span = validity(options.days, options.now ?? new Date());
  const caExpiry = validTo(issuer.certificate);
  const notAfter = span.notAfter.getTime() > caExpiry.getTime() ? caExpiry : span.notAfter;
  const { privateKey, subjectPublicKeyInfo } = newKeyPair();
  const der = buildCertificate(
    {
      subject: commonNameOnly(options.commonName),
      issuer: issuer.subject,
      notBefore: span.notBefore,
      notAfter,
      subjectPublicKeyInfo,
      extensions: [
        basicConstraints(false),
        // ECDSA keys sign the handshake; keyEncipherment is for RSA key transport only.
        keyUsage([KEY_USAGE.digitalSignature]),
        extendedKeyUsage([OID.serverAuth]),
        subjectAltNameDns(options.dnsNames),
        subjectKeyIdentifier(keyIdentifier(subjectPublicKeyInfo)),
        authorityKeyIdentifier(issuer.keyId),
      ],
    },
    issuer.key,
  );
  return { cert: toPem('CERTIFICATE', der), key: privateKeyPem(privateKey) };
}

/** What a webhook Secret holds: the CA certificate (for caBundle) and the serving pair. PEM. */
export interface ServingBundle {
  caCert: string;
  tlsCert: string;
  tlsKey: string;
}

export interface ServingBundleOptions {
  caCommonName: string;
  commonName: string;
  dnsNames: string[];
  /** Validity of both the CA and the serving certificate, in days. */
  days: number;
  now?: Date;
}

/**
 * A new CA and one serving certificate from it. The CA key is dropped once it has signed, so nothing
 * else can ever be issued under this CA; renewing means a new bundle (new CA, new caBundle).
 */
export function createServingBundle(options: ServingBundleOptions): ServingBundle {
  const { commonName, dnsNames, days, now } = options;
  const ca = createCa({ commonName: options.caCommonName, days, ...(now ? { now } : {}) });
  const serving = issueServingCert(ca, { commonName, dnsNames, days, ...(now ? { now } : {}) });
  return { caCert: ca.cert, tlsCert: serving.cert, tlsKey: serving.key };
}

/** The names a Service is dialled by inside the cluster; the API server uses `<service>.<namespace>.svc`. */
export function serviceDnsNames(
  service: string,
  namespace: string,
  clusterDomain = 'cluster.local',
): string[] {
  const svc = `${service}.${namespace}.svc`;
  return [service, `${service}.${namespace}`, svc, `${svc}.${clusterDomain}`];
}
