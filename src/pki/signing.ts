/**
 * Signature algorithms for certificates: which AlgorithmIdentifier and digest a signing key implies.
 * New keys are ECDSA P-256; a CA handed in from elsewhere may also be P-384/P-521, RSA or Ed25519.
 */
import type { KeyObject } from 'node:crypto';
import { sign } from 'node:crypto';
import { nullValue, objectIdentifier, sequence } from './der.js';

export interface SignatureAlgorithm {
  /** The AlgorithmIdentifier encoding written into the certificate (twice). */
  identifier: Buffer;
  /** Digest for crypto.sign; null for Ed25519. */
  digest: string | null;
}

const ECDSA_BY_CURVE: Record<string, { oid: string; digest: string }> = {
  prime256v1: { oid: '1.2.840.10045.4.3.2', digest: 'sha256' },
  secp384r1: { oid: '1.2.840.10045.4.3.3', digest: 'sha384' },
  secp521r1: { oid: '1.2.840.10045.4.3.4', digest: 'sha512' },
};

export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const algorithm = ECDSA_BY_CURVE[curve];
      if (!algorithm)
        throw new Error(`unsupported EC curve ${curve || '(unknown)'} for a certificate signature`);
      return { identifier: sequence(objectIdentifier(algorithm.oid)), digest: algorithm.digest };
    }
    case 'rsa':
      // sha256WithRSAEncryption, parameters NULL
      return {
        identifier: sequence(objectIdentifier('1.2.840.113549.1.1.11'), nullValue()),
        digest: 'sha256',
      };
    case 'ed25519':
      return { identifier: sequence(objectIdentifier('1.3.101.112')), digest: null };
    default:
      throw new Error(
        `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'} for a certificate signature`,
      );
  }
}

/** The signature value (DER-encoded ECDSA signature for EC keys, as X.509 expects). */
export function signWith(key: KeyObject, algorithm: SignatureAlgorithm, data: Buffer): Buffer {
  return sign(algorithm.digest, data, key);
}
