/**
 * The control plane's own PKI: a throw-away CA, the API server's serving certificate, client
 * certificates for named users, and the service-account signing key. Certificates are made with the
 * openssl command line; keys are P-256 so generating them is instant.
 */
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

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

const VALID_DAYS = '7';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execa('openssl', args, { cwd });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        'the embedded control plane makes its certificates with `openssl`; install it (apt-get install openssl)',
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

function escapeSubject(value: string): string {
  return value.replace(/[/=\\+]/g, (c) => `\\${c}`);
}

export class Pki {
  private constructor(
    readonly dir: string,
    readonly ca: KeyPair,
  ) {}

  static async create(dir: string): Promise<Pki> {
    const ca = { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
    await openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        ca.key,
        '-out',
        ca.cert,
        '-days',
        VALID_DAYS,
        '-subj',
        '/CN=ks-installer-envtest-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    return new Pki(dir, ca);
  }

  async issue(req: CertRequest): Promise<KeyPair> {
    const out = { cert: path.join(this.dir, `${req.file}.crt`), key: path.join(this.dir, `${req.file}.key`) };
    const csr = path.join(this.dir, `${req.file}.csr`);
    const ext = path.join(this.dir, `${req.file}.ext`);
    const subject =
      (req.organizations ?? []).map((o) => `/O=${escapeSubject(o)}`).join('') +
      `/CN=${escapeSubject(req.commonName)}`;
    const sans = [...(req.ips ?? []).map((ip) => `IP:${ip}`), ...(req.dnsNames ?? []).map((d) => `DNS:${d}`)];
    const extLines = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${req.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
    ];
    await writeFile(ext, extLines.join('\n') + '\n');
    await openssl(
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        out.key,
        '-out',
        csr,
        '-subj',
        subject,
      ],
      this.dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        this.ca.cert,
        '-CAkey',
        this.ca.key,
        '-CAcreateserial',
        '-out',
        out.cert,
        '-days',
        VALID_DAYS,
        '-extfile',
        ext,
      ],
      this.dir,
    );
    return out;
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
