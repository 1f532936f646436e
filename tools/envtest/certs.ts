/**
 * The control plane's own PKI: a throw-away CA, the API server's serving certificate, client
 * certificates for named users, and the service-account signing key, written as files for
 * kube-apiserver and kubeconfigs. Certificates come from src/pki (P-256 keys, generated instantly),
 * so no openssl is needed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createAuthority, exportAuthority, issueCertificate, type Authority } from '../../src/pki/index.js';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertRequest {
  /** File name stem inside the PKI directory. */
  file: string;
  commonName: string;
  organizations?: string[];
  usage: 'server' | 'client';
  ips?: string[];
  dnsNames?: string[];
}

const VALID_DAYS = 7;

async function writePair(dir: string, file: string, pem: { cert: string; key: string }): Promise<KeyPair> {
  const out = { cert: path.join(dir, `${file}.crt`), key: path.join(dir, `${file}.key`) };
  await writeFile(out.cert, pem.cert);
  await writeFile(out.key, pem.key, { mode: 0o600 });
  return out;
}

export class Pki {
  private constructor(
    readonly dir: string,
    readonly ca: KeyPair,
    private readonly authority: Authority,
  ) {}

  /** A CA written as `<file>.crt` / `<file>.key` in `dir` (a second one, e.g. the front proxy's, needs another file name). */
  static async create(dir: string, commonName = 'ks-installer-envtest-ca', file = 'ca'): Promise<Pki> {
    const authority = await createAuthority(commonName, VALID_DAYS);
    const ca = await writePair(dir, file, await exportAuthority(authority));
    return new Pki(dir, ca, authority);
  }

  /** Writes `<file>.crt` and `<file>.key`, signed by the CA; returns their paths. */
  async issue(req: CertRequest): Promise<KeyPair> {
    const pem = await issueCertificate(this.authority, {
      commonName: req.commonName,
      usage: req.usage,
      days: VALID_DAYS,
      ...(req.organizations ? { organizations: req.organizations } : {}),
      ...(req.ips ? { ips: req.ips } : {}),
      ...(req.dnsNames ? { dnsNames: req.dnsNames } : {}),
    });
    return writePair(this.dir, req.file, pem);
  }

  /** The key pair the API server signs and verifies service-account tokens with. */
  async serviceAccountKey(): Promise<{ publicKey: string; privateKey: string }> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const files = { publicKey: path.join(this.dir, 'sa.pub'), privateKey: path.join(this.dir, 'sa.key') };
    await writeFile(files.publicKey, publicKey);
    await writeFile(files.privateKey, privateKey, { mode: 0o600 });
    return files;
  }
}
