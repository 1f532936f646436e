/**
 * Certificates made and checked with node:crypto alone: a throw-away CA, serving certificates it
 * issues, and the checks that decide whether a stored serving pair can be kept.
 */
export type {
  CaOptions,
  PemPair,
  ServingBundle,
  ServingBundleOptions,
  ServingCertOptions,
} from './authority.js';
export { createCa, createServingBundle, issueServingCert, serviceDnsNames } from './authority.js';
export type { CertificateInfo, ServingPairCheck } from './inspect.js';
export { certificateInfo, checkServingPair, dnsNameCovers, isUsableServingPair } from './inspect.js';
