/**
 * Just enough DER reading to take fields out of an existing certificate that node:crypto does not
 * expose: the exact subject Name bytes (a child's issuer must equal them), the extensions (subject key
 * identifier, subjectAltName) and the public key bit string.
 */
import { TAG } from './der.js';

export interface Element {
  tag: number;
  /** The content octets. */
  content: Buffer;
  /** The whole encoding, header included. */
  raw: Buffer;
}

/** The element that starts at `offset`; definite lengths only, as DER requires. */
export function readElement(buffer: Buffer, offset = 0): Element {
  const fail = (why: string): never => {
    throw new Error(`invalid DER at byte ${offset}: ${why}`);
  };
  if (offset + 2 > buffer.length) fail('truncated header');
  const tag = buffer[offset] as number;
  if ((tag & 0x1f) === 0x1f) fail('high tag numbers are not supported');
  let length = buffer[offset + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) fail('unsupported length encoding');
    if (offset + 2 + count > buffer.length) fail('truncated length');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (buffer[offset + 2 + i] as number);
    header += count;
  }
  const end = offset + header + length;
  if (end > buffer.length) fail('content runs past the end');
  return { tag, content: buffer.subarray(offset + header, end), raw: buffer.subarray(offset, end) };
}

/** The elements directly inside a constructed element's content. */
export function children(content: Buffer): Element[] {
  const out: Element[] = [];
  for (let offset = 0; offset < content.length;) {
    const element = readElement(content, offset);
    out.push(element);
    offset += element.raw.length;
  }
  return out;
}

export function decodeObjectIdentifier(content: Buffer): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [head = 0n, ...rest] = arcs;
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...rest].join('.');
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue octets (itself a DER encoding). */
  value: Buffer;
}

export interface CertificateFields {
  /** The TBSCertificate encoding (what the signature covers). */
  tbs: Buffer;
  /** The issuer Name, whole encoding. */
  issuer: Buffer;
  /** The subject Name, whole encoding. */
  subject: Buffer;
  /** The SubjectPublicKeyInfo, whole encoding. */
  subjectPublicKeyInfo: Buffer;
  extensions: Extension[];
}

function expectTag(element: Element | undefined, tag: number, what: string): Element {
  if (!element || element.tag !== tag) throw new Error(`invalid certificate: ${what} not found`);
  return element;
}

/** Splits a DER certificate into the fields this module needs. */
export function readCertificate(der: Buffer): CertificateFields {
  const certificate = expectTag(readElement(der), TAG.SEQUENCE, 'Certificate');
  const tbsElement = expectTag(children(certificate.content)[0], TAG.SEQUENCE, 'TBSCertificate');
  const fields = children(tbsElement.content);
  // version [0] is optional (v1 certificates leave it out)
  const start = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = expectTag(fields[start + 2], TAG.SEQUENCE, 'issuer');
  const subject = expectTag(fields[start + 4], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[start + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const extensions: Extension[] = [];
  const wrapper = fields.slice(start + 6).find((f) => f.tag === 0xa3);
  if (wrapper) {
    const list = expectTag(children(wrapper.content)[0], TAG.SEQUENCE, 'extensions');
    for (const ext of children(list.content)) {
      const parts = children(ext.content);
      const oid = expectTag(parts[0], TAG.OBJECT_IDENTIFIER, 'extension id');
      const hasCritical = parts[1]?.tag === TAG.BOOLEAN;
      const value = expectTag(parts[hasCritical ? 2 : 1], TAG.OCTET_STRING, 'extension value');
      extensions.push({
        oid: decodeObjectIdentifier(oid.content),
        critical: hasCritical && parts[1]?.content[0] !== 0,
        value: value.content,
      });
    }
  }
  return {
    tbs: tbsElement.raw,
    issuer: issuer.raw,
    subject: subject.raw,
    subjectPublicKeyInfo: spki.raw,
    extensions,
  };
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (the unused-bits octet removed). */
export function subjectPublicKeyBits(spki: Buffer): Buffer {
  const parts = children(readElement(spki).content);
  const bits = expectTag(parts[1], TAG.BIT_STRING, 'subjectPublicKey');
  return bits.content.subarray(1);
}
