/**
 * Certificates: a throw-away CA and the certificates it issues (certificates.ts, on @peculiar/x509),
 * and the checks that decide whether a stored serving pair can be kept (inspect.ts, on node:crypto
 * alone). The operator imports inspect.ts directly and certificates.ts only when it issues a pair.
 */
export type {
  Authority,
  IssueOptions,
  PemPair,
  ServingBundle,
  ServingBundleOptions,
} from './certificates.js';
export {
  createAuthority,
  createServingBundle,
  exportAuthority,
  issueCertificate,
  serviceDnsNames,
} from './certificates.js';
export type { CertificateInfo, ServingPairCheck } from './inspect.js';
export { certificateInfo, checkServingPair, dnsNameCovers, isUsableServingPair } from './inspect.js';
