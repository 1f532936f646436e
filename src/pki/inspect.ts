/**
 * Reading certificates back: what a PEM certificate says, and whether a stored serving pair (e.g. the
 * live webhook Secret) can be kept — signed by its CA, key matching, covering the name, valid long enough.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { ServingBundle } from './certificates.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface CertificateInfo {
  /** Distinguished name as node prints it, e.g. `CN=webhook-ca`. */
  subject: string;
  issuer: string;
  /** The subject's CN, when it has one. */
  commonName?: string;
  /** subjectAltName DNS entries, in certificate order. */
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** Extended key usage OIDs; empty when the extension is absent. */
  extendedKeyUsage: string[];
  serialNumber: string;
  fingerprint256: string;
}

/** subjectAltName DNS entries as node prints them (`DNS:a, DNS:b, IP Address:…`). */
function dnsNamesOf(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
}

function commonNameOf(distinguishedName: string): string | undefined {
  const line = distinguishedName.split('\n').find((part) => part.startsWith('CN='));
  return line?.slice(3);
}

function describe(certificate: X509Certificate): CertificateInfo {
  const commonName = commonNameOf(certificate.subject);
  // Node 22.10 and later give the validity as Dates; before, the same second as text (`Nov 25 23:00:00 2036 GMT`).
  const dated: { validFromDate?: Date; validToDate?: Date } = certificate;
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    ...(commonName === undefined ? {} : { commonName }),
    dnsNames: dnsNamesOf(certificate),
    notBefore: dated.validFromDate ?? new Date(certificate.validFrom),
    notAfter: dated.validToDate ?? new Date(certificate.validTo),
    isCa: certificate.ca,
    extendedKeyUsage: certificate.keyUsage ?? [],
    serialNumber: certificate.serialNumber,
    fingerprint256: certificate.fingerprint256,
  };
}

/** The facts of a PEM certificate (the first one, if the PEM holds a chain). Throws on unparsable input. */
export function certificateInfo(pem: string): CertificateInfo {
  return describe(new X509Certificate(pem));
}

/** Exact match (case-insensitive), or a `*.` wildcard standing for exactly one left-most label. */
export function dnsNameCovers(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase().replace(/\.$/, '');
  if (p === n) return true;
  if (!p.startsWith('*.')) return false;
  const dot = n.indexOf('.');
  return dot > 0 && n.slice(dot + 1) === p.slice(2);
}

export type ServingPairCheck = { usable: true; notAfter: Date } | { usable: false; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;

/** The parsed value, or why it cannot be parsed. */
function parse<T>(what: string, parseIt: () => T): T | string {
  try {
    return parseIt();
  } catch (error) {
    return `${what} cannot be parsed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function validityProblem(
  what: string,
  info: CertificateInfo,
  minValidDays: number,
  now: Date,
): string | undefined {
  if (info.notBefore.getTime() > now.getTime())
    return `${what} is not valid before ${info.notBefore.toISOString()}`;
  const remaining = info.notAfter.getTime() - now.getTime();
  if (remaining < minValidDays * DAY_MS) {
    return `${what} expires at ${info.notAfter.toISOString()}, less than ${minValidDays} days from now`;
  }
  return undefined;
}

/**
 * Whether a stored serving pair can be kept as it is, and if not, why: the CA must be a CA, the serving
 * certificate signed by it and usable for serverAuth, the key must match the certificate, a SAN must
 * cover `dnsName`, and both certificates must stay valid for at least `minValidDays` from `now`.
 */
export function checkServingPair(
  pair: ServingBundle,
  dnsName: string,
  minValidDays: number,
  now: Date = new Date(),
): ServingPairCheck {
  const ca = parse('the CA certificate', () => new X509Certificate(pair.caCert));
  if (typeof ca === 'string') return { usable: false, reason: ca };
  const cert = parse('the serving certificate', () => new X509Certificate(pair.tlsCert));
  if (typeof cert === 'string') return { usable: false, reason: cert };
  const key = parse('the private key', () => createPrivateKey(pair.tlsKey));
  if (typeof key === 'string') return { usable: false, reason: key };
  if (!ca.ca) return { usable: false, reason: 'the CA certificate is not a CA' };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return { usable: false, reason: 'the serving certificate is not signed by the CA' };
  }
  if (key.type !== 'private' || !cert.checkPrivateKey(key)) {
    return { usable: false, reason: 'the private key does not belong to the serving certificate' };
  }
  const info = describe(cert);
  if (!info.dnsNames.some((pattern) => dnsNameCovers(pattern, dnsName))) {
    return {
      usable: false,
      reason: `the serving certificate does not cover ${dnsName} (SANs: ${info.dnsNames.join(', ') || 'none'})`,
    };
  }
  if (info.extendedKeyUsage.length > 0 && !info.extendedKeyUsage.includes(SERVER_AUTH)) {
    return { usable: false, reason: 'the serving certificate is not for serverAuth' };
  }
  const problem =
    validityProblem('the serving certificate', info, minValidDays, now) ??
    validityProblem('the CA certificate', describe(ca), minValidDays, now);
  if (problem) return { usable: false, reason: problem };
  return { usable: true, notAfter: info.notAfter };
}

export function isUsableServingPair(
  pair: ServingBundle,
  dnsName: string,
  minValidDays: number,
  now: Date = new Date(),
): boolean {
  return checkServingPair(pair, dnsName, minValidDays, now).usable;
}
