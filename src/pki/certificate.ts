/** Assembles and signs an X.509 v3 certificate (RFC 5280 §4.1) from already-encoded parts. */
import type { KeyObject } from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import {
  bitString,
  explicit,
  integer,
  objectIdentifier,
  sequence,
  setOf,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';
import { subjectPublicKeyBits } from './der-reader.js';
import { OID } from './extensions.js';
import { signatureAlgorithmFor, signWith } from './signing.js';

export interface CertificateParts {
  /** Subject Name, whole encoding. */
  subject: Buffer;
  /** Issuer Name, whole encoding: byte-equal to the issuing CA's subject. */
  issuer: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo of the certified key, whole encoding. */
  subjectPublicKeyInfo: Buffer;
  /** Encoded Extension elements. */
  extensions: Buffer[];
}

/** A Name holding one commonName (UTF8String). */
export function commonNameOnly(commonName: string): Buffer {
  if (commonName.length === 0 || commonName.length > 64) {
    throw new Error(`the common name must have 1 to 64 characters, got ${JSON.stringify(commonName)}`);
  }
  return sequence(setOf(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 over the subjectPublicKey bits. */
export function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(subjectPublicKeyInfo)).digest();
}

/** 16 random bytes with the top bit cleared: positive, at most 20 octets encoded, never zero in practice. */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  return serial;
}

/** The DER certificate, signed by `signingKey` (the issuer's private key). */
export function buildCertificate(parts: CertificateParts, signingKey: KeyObject): Buffer {
  if (parts.notAfter.getTime() <= parts.notBefore.getTime())
    throw new Error('the certificate would expire before it starts');
  const algorithm = signatureAlgorithmFor(signingKey);
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    unsignedInteger(randomSerial()),
    algorithm.identifier,
    parts.issuer,
    sequence(time(parts.notBefore), time(parts.notAfter)),
    parts.subject,
    parts.subjectPublicKeyInfo,
    explicit(3, sequence(...parts.extensions)),
  );
  return sequence(tbs, algorithm.identifier, bitString(signWith(signingKey, algorithm, tbs)));
}

export function toPem(label: 'CERTIFICATE', der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
