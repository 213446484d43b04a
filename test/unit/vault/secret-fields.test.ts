/**
 * A `secret` entry's plaintext read back for `export` (src/vault/secret-fields.ts). Not a
 * security boundary (the plaintext is the token's AEAD-authenticated copy of what
 * legacy-import wrote), but the export must be lossless: valibot's record dropped the keys
 * `__proto__`, `constructor` and `prototype` without a word.
 */
import { describe, expect, it } from 'vitest';
import { copyFields, secretFields } from '../../../src/vault/secret-fields.js';

const plain = (s: string) => Buffer.from(s, 'utf8');

describe('secretFields', () => {
  it("gives back Tatum's fields as written", () => {
    expect({ ...secretFields(plain('{"mnemonic":"a b c","privateKey":"k"}')) }).toEqual({
      mnemonic: 'a b c',
      privateKey: 'k',
    });
  });

  it('keeps __proto__, constructor and prototype as ordinary fields, and an export prints them', () => {
    const fields = secretFields(plain('{"__proto__":"p","constructor":"c","prototype":"t","secret":"s"}'));
    expect(Object.keys(fields)).toEqual(['__proto__', 'constructor', 'prototype', 'secret']);
    expect(Object.getPrototypeOf(fields)).toBeNull();
    const out: Record<string, unknown> = { chain: 'X' };
    copyFields(out, fields);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(out))).toEqual(
      JSON.parse('{"chain":"X","__proto__":"p","constructor":"c","prototype":"t","secret":"s"}'),
    );
  });

  it('a plaintext that is no JSON object of strings is the bare secret', () => {
    for (const text of ['just-a-secret', '"quoted"', 'null', '["a"]', '{"secret":5}', '{"__proto__":{"x":"y"}}'])
      expect({ ...secretFields(plain(text)) }).toEqual({ secret: text });
  });
});
