/**
 * A `secret` entry's plaintext (vault/legacy-import.ts writes it for chains hardkms cannot
 * sign for): a JSON object of Tatum's secret fields (mnemonic, privateKey, secret) kept
 * verbatim so that `export` gives them back losslessly, or, from older stores, the bare
 * secret string.
 *
 * Read through jsonMap: every key comes back as an ordinary key of a null-prototype object
 * (valibot's record silently dropped `__proto__`, `constructor` and `prototype`, so an
 * export would lose such a field without a word). The plaintext is authenticated by the
 * token's AEAD, so the keys are only ever what hardkms wrote; this is about losing nothing.
 */
import { check, jsonMap, v } from '../validate.js';

const fieldsRecord = jsonMap({ value: v.string() });

/** The fields of a `secret` entry; a plaintext that is not a JSON object of strings is `{ secret: <it> }`. */
export function secretFields(plain: Buffer): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(plain.toString('utf8'));
  } catch {
    json = undefined;
  }
  const fields = json === undefined ? undefined : check(fieldsRecord, json);
  if (fields?.ok === true) return fields.value;
  return Object.assign(Object.create(null) as Record<string, string>, { secret: plain.toString('utf8') });
}

/** `fields` copied onto `out` as own properties, `__proto__` included (Object.assign would set the prototype). */
export function copyFields(out: Record<string, unknown>, fields: Record<string, string>): void {
  for (const [k, value] of Object.entries(fields))
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
}
