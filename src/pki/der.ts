/**
 * A minimal ASN.1 DER encoder: exactly the types an X.509 certificate needs, each producing the one
 * canonical encoding DER allows (minimal lengths, minimal integers, trailing zero bits dropped from
 * named-bit strings, UTCTime until 2049 and GeneralizedTime from 2050 as RFC 5280 requires).
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...children: Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(children));
}

/** A SET OF: DER orders the encoded members by their bytes. */
export function setOf(...children: Uint8Array[]): Buffer {
  const sorted = [...children].map((c) => Buffer.from(c)).sort(Buffer.compare);
  return tlv(TAG.SET, Buffer.concat(sorted));
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

export function nullValue(): Buffer {
  return tlv(TAG.NULL, Buffer.alloc(0));
}

/** A non-negative INTEGER from its big-endian magnitude (leading zeros dropped, a 0x00 added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  let bytes = Buffer.from(magnitude.subarray(start));
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.INTEGER, bytes);
}

export function integer(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`integer: ${value} is not a non-negative safe integer`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Buffer.from(bytes));
}

function base128(value: bigint): number[] {
  const out = [Number(value & 0x7fn)];
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) out.unshift(Number(rest & 0x7fn) | 0x80);
  return out;
}

export function objectIdentifier(dotted: string): Buffer {
  if (!/^[0-2](\.\d+)+$/.test(dotted))
    throw new Error(`objectIdentifier: ${JSON.stringify(dotted)} is not a dotted OID`);
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second > 39n)
    throw new Error(`objectIdentifier: second arc of ${dotted} is out of range`);
  const bytes = [...base128(first * 40n + second), ...rest.flatMap(base128)];
  return tlv(TAG.OBJECT_IDENTIFIER, Buffer.from(bytes));
}

export function octetString(content: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, content);
}

/** A BIT STRING holding whole bytes (keys, signatures). */
export function bitString(content: Uint8Array): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), content]));
}

/**
 * A BIT STRING of named bits (bit 0 is the most significant bit of the first byte), with trailing
 * zero bits removed as DER requires for named-bit lists such as KeyUsage.
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(TAG.BIT_STRING, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0) throw new Error(`namedBits: ${bit} is not a bit position`);
    bytes[Math.floor(bit / 8)] = (bytes[Math.floor(bit / 8)] as number) | (0x80 >> (bit % 8));
  }
  const unused = 7 - (highest % 8);
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unused]), bytes]));
}

export function utf8String(value: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'));
}

/** The bytes of an ASCII (IA5) string; anything else is refused rather than mangled. */
export function asciiBytes(value: string): Buffer {
  if ([...value].some((char) => char.charCodeAt(0) > 0x7f))
    throw new Error(`${JSON.stringify(value)} is not ASCII`);
  return Buffer.from(value, 'ascii');
}

export function ia5String(value: string): Buffer {
  return tlv(TAG.IA5_STRING, asciiBytes(value));
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** RFC 5280 Time: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ) from 2050; whole seconds. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`time: year ${year} cannot be encoded`);
  const rest =
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2) +
    'Z';
  if (year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad(year % 100, 2) + rest, 'ascii'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(pad(year, 4) + rest, 'ascii'));
}

/** `[n] EXPLICIT`: a constructed context-specific tag wrapping a whole encoding. */
export function explicit(tagNumber: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, inner);
}

/** `[n] IMPLICIT` over a primitive type: the content octets under a context-specific tag. */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, content);
}
