/** The X.509 v3 extensions this module writes (RFC 5280 §4.2.1), each as a DER Extension. */
import {
  asciiBytes,
  boolean,
  implicitPrimitive,
  integer,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
} from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit positions. */
export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  // DER leaves out a BOOLEAN that equals its DEFAULT (critical DEFAULT FALSE).
  return critical
    ? sequence(objectIdentifier(oid), boolean(true), octetString(value))
    : sequence(objectIdentifier(oid), octetString(value));
}

/** basicConstraints, critical: CA:TRUE with a path length, or CA:FALSE (the empty sequence). */
export function basicConstraints(ca: { pathLength: number } | false): Buffer {
  const value = ca === false ? sequence() : sequence(boolean(true), integer(ca.pathLength));
  return extension(OID.basicConstraints, true, value);
}

export function keyUsage(bits: readonly number[]): Buffer {
  return extension(OID.keyUsage, true, namedBits(bits));
}

export function extendedKeyUsage(oids: readonly string[]): Buffer {
  return extension(OID.extKeyUsage, false, sequence(...oids.map((oid) => objectIdentifier(oid))));
}

/** subjectAltName with dNSName entries ([2] IMPLICIT IA5String). */
export function subjectAltNameDns(dnsNames: readonly string[]): Buffer {
  const names = dnsNames.map((name) => implicitPrimitive(2, asciiBytes(name)));
  return extension(OID.subjectAltName, false, sequence(...names));
}

export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

/** authorityKeyIdentifier with only the keyIdentifier ([0] IMPLICIT OCTET STRING). */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));
}
