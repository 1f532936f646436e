import { describe, expect, it } from '@jest/globals';
import {
  explicit,
  implicitPrimitive,
  integer,
  namedBits,
  objectIdentifier,
  sequence,
  setOf,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from '../../../src/pki/der.js';
import { children, decodeObjectIdentifier, readElement } from '../../../src/pki/der-reader.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoder', () => {
  it('encodes object identifiers, including large arcs', () => {
    expect(hex(objectIdentifier('1.2.840.113549'))).toBe('06062a864886f70d');
    expect(hex(objectIdentifier('2.5.29.17'))).toBe('0603551d11');
    expect(hex(objectIdentifier('2.999.3'))).toBe('0603883703');
    expect(() => objectIdentifier('1.40.1')).toThrow(/out of range/);
    expect(() => objectIdentifier('x.1')).toThrow(/not a dotted OID/);
  });

  it('encodes integers minimally and never negative', () => {
    expect(hex(integer(0))).toBe('020100');
    expect(hex(integer(127))).toBe('02017f');
    expect(hex(integer(128))).toBe('02020080');
    expect(hex(integer(256))).toBe('02020100');
    expect(hex(unsignedInteger(Buffer.from([0, 0, 1])))).toBe('020101');
    expect(hex(unsignedInteger(Buffer.from([0xff])))).toBe('020200ff');
    expect(() => integer(-1)).toThrow();
  });

  it('uses long-form lengths from 128 bytes on', () => {
    expect(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(tlv(0x04, Buffer.alloc(200))).slice(0, 6)).toBe('0481c8');
    expect(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
  });

  it('drops trailing zero bits of named-bit strings (KeyUsage)', () => {
    expect(hex(namedBits([0]))).toBe('03020780'); // digitalSignature
    expect(hex(namedBits([0, 5, 6]))).toBe('03020186'); // + keyCertSign, cRLSign
    expect(hex(namedBits([8]))).toBe('0303070080'); // decipherOnly
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050', () => {
    const utc = time(new Date('2049-12-31T23:59:59.999Z'));
    expect(utc[0]).toBe(0x17);
    expect(utc.subarray(2).toString('ascii')).toBe('491231235959Z');
    const generalized = time(new Date('2050-01-01T00:00:00Z'));
    expect(generalized[0]).toBe(0x18);
    expect(generalized.subarray(2).toString('ascii')).toBe('20500101000000Z');
  });

  it('sorts SET OF members by their encoding', () => {
    const a = utf8String('b');
    const b = utf8String('a');
    expect(hex(setOf(a, b))).toBe(`3106${hex(b)}${hex(a)}`);
  });

  it('tags explicit and implicit context-specific elements', () => {
    expect(hex(explicit(3, sequence()))).toBe('a3023000');
    expect(hex(implicitPrimitive(2, Buffer.from('a')))).toBe('820161');
  });
});

describe('DER reader', () => {
  it('reads back what the encoder wrote', () => {
    const encoded = sequence(objectIdentifier('1.3.6.1.5.5.7.3.1'), utf8String('x'.repeat(200)));
    const outer = readElement(encoded);
    expect(outer.tag).toBe(0x30);
    expect(outer.raw.length).toBe(encoded.length);
    const [oid, text] = children(outer.content);
    expect(decodeObjectIdentifier(oid!.content)).toBe('1.3.6.1.5.5.7.3.1');
    expect(text!.content.toString()).toBe('x'.repeat(200));
    expect(decodeObjectIdentifier(objectIdentifier('2.999.3').subarray(2))).toBe('2.999.3');
  });

  it('refuses truncated input', () => {
    const encoded = sequence(utf8String('hello'));
    expect(() => readElement(encoded.subarray(0, encoded.length - 1))).toThrow(/past the end/);
    expect(() => readElement(Buffer.from([0x30]))).toThrow(/truncated/);
  });
});
