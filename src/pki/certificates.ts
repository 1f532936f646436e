/**
 * Certificates made with @peculiar/x509 on Node's WebCrypto (no openssl needed): a throw-away CA
 * and the certificates it issues, ECDSA P-256 with SHA-256. Used for the notification-manager
 * webhook's serving pair and for the embedded control plane's own PKI.
 */
// @peculiar/x509 resolves its ASN.1 services with tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's WebCrypto is the standard API; its TypeScript types are node's own, not the DOM's.
x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity starts an hour early so nodes whose clocks lag a little accept a brand-new certificate. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const DNS_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export interface PemPair {
  cert: string;
  key: string;
}

/** A CA kept in memory while it issues: its certificate and signing key. */
export interface Authority {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
  cert: string;
}

export interface IssueOptions {
  commonName: string;
  /** Organizations (O=), e.g. Kubernetes groups of a client certificate. */
  organizations?: string[];
  usage: 'server' | 'client';
  dnsNames?: string[];
  ips?: string[];
  /** Validity from now, in days; never beyond the CA's own expiry. */
  days: number;
  now?: Date;
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`days must be a positive number, got ${days}`);
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

function serialNumber(): string {
  // Positive (top bit clear) and 16 bytes, as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function distinguishedName(commonName: string, organizations: string[] = []): x509.JsonName {
  if (!commonName) throw new Error('a certificate needs a common name');
  return [{ CN: [commonName] }, ...(organizations.length ? [{ O: organizations }] : [])];
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** A self-signed CA that may sign end-entity certificates only (path length 0). */
export async function createAuthority(
  commonName: string,
  days: number,
  now = new Date(),
): Promise<Authority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(commonName),
    ...validity(days, now),
    keys: keys as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certificate, privateKey: keys.privateKey, cert: certificate.toString('pem') + '\n' };
}

export async function exportAuthority(ca: Authority): Promise<PemPair> {
  return { cert: ca.cert, key: await privateKeyPem(ca.privateKey) };
}

/** An end-entity certificate (serverAuth or clientAuth) signed by `ca`, with a fresh P-256 key. */
export async function issueCertificate(ca: Authority, options: IssueOptions): Promise<PemPair> {
  const dnsNames = options.dnsNames ?? [];
  const ips = options.ips ?? [];
  for (const name of dnsNames) {
    if (name.length > 253 || !DNS_NAME.test(name))
      throw new Error(`${JSON.stringify(name)} is not a lower-case DNS name`);
  }
  if (options.usage === 'server' && dnsNames.length + ips.length === 0) {
    throw new Error('a serving certificate needs at least one DNS name or IP address');
  }
  const span = validity(options.days, options.now ?? new Date());
  const notAfter = span.notAfter > ca.certificate.notAfter ? ca.certificate.notAfter : span.notAfter;
  const keys = await generateKeys();
  const names: x509.JsonGeneralName[] = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(options.commonName, options.organizations),
    issuer: ca.certificate.subject,
    notBefore: span.notBefore,
    notAfter,
    publicKey: keys.publicKey as never,
    signingKey: ca.privateKey as never,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // ECDSA keys sign the handshake; keyEncipherment is for RSA key transport only.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
    ],
  });
  return { cert: certificate.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) };
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
export async function createServingBundle(options: ServingBundleOptions): Promise<ServingBundle> {
  const { commonName, dnsNames, days, now } = options;
  const ca = await createAuthority(options.caCommonName, days, now);
  const serving = await issueCertificate(ca, {
    commonName,
    dnsNames,
    days,
    usage: 'server',
    ...(now ? { now } : {}),
  });
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
