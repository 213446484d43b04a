/**
 * src/validate.ts: the one formatter of validation issues says where and what was wrong,
 * and never echoes the received value (a KMS must not copy a payload or a secret into an
 * error, a log or Tatum's error batch).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  check,
  expecting,
  issueText,
  jsonMap,
  jsonObject,
  jsonSyntaxPlace,
  kindOf,
  strictJsonObject,
  v,
} from '../../src/validate.js';

const SECRET = 'abandon ability able about above absent absorb abstract absurd abuse access accident';

const schema = jsonObject({
  name: v.string(),
  count: v.pipe(v.number(), v.integer()),
  mode: v.picklist(['a', 'b']),
  tag: v.literal('x'),
  items: v.array(jsonObject({ key: v.pipe(v.string(), v.regex(/^[0-9a-f]{4}$/)) })),
  nested: v.optional(strictJsonObject({ flag: v.boolean(expecting('true or false')) })),
});
const valid = { name: 'n', count: 1, mode: 'a', tag: 'x', items: [{ key: 'beef' }] };

describe('issueText', () => {
  it('names the path and what was expected, and the kind of value only', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: SECRET.length }, 'name: expected string, got a number'],
      [{ count: SECRET }, `count: expected number, got a string of ${SECRET.length} characters`],
      [{ count: 1.5 }, 'count: expected integer, got a number'],
      [{ mode: SECRET }, `mode: expected ("a" | "b"), got a string of ${SECRET.length} characters`],
      [{ tag: SECRET }, `tag: expected "x", got a string of ${SECRET.length} characters`],
      [
        { items: [{ key: 'beef' }, { key: SECRET }] },
        `items[1].key: expected /^[0-9a-f]{4}$/, got a string of ${SECRET.length} characters`,
      ],
      [{ items: { 0: SECRET } }, 'items: expected Array, got an object'],
      [
        { nested: { flag: SECRET } },
        `nested.flag: expected true or false, got a string of ${SECRET.length} characters`,
      ],
      [{ nested: { flag: true, [SECRET]: 1 } }, `nested[${JSON.stringify(SECRET)}]: not an accepted field`],
      [{ name: undefined }, 'name: expected string, got nothing (field missing)'],
    ];
    for (const [patch, text] of cases) {
      const r = check(schema, { ...valid, ...patch });
      expect(r.ok, JSON.stringify(patch)).toBe(false);
      if (!r.ok) expect(r.text).toBe(text);
    }
    const missing = check(schema, { mode: 'a' });
    expect(!missing.ok && missing.text).toBe('name: required, but missing');
    const top = check(schema, [SECRET]);
    expect(!top.ok && top.text).toBe('expected an object, got an array of 1 entries');
  });

  it('prefixes where the value sits in a larger record', () => {
    const r = check(schema, { ...valid, count: 'x' }, 'chains.ETH');
    expect(!r.ok && r.text).toBe('chains.ETH.count: expected number, got a string of 1 characters');
    const top = check(schema, 7, 'otp');
    expect(!top.ok && top.text).toBe('otp: expected an object, got a number');
  });

  it('fuzz: whatever replaces a field, the reason names the field and never contains the value', () => {
    const fields = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.string({ minLength: 6 }), fc.anything(), (field, marker, other) => {
        for (const garbage of [marker, [marker], { [marker]: marker }, { key: marker }, other]) {
          const r = check(schema, { ...valid, [field]: garbage });
          if (r.ok) continue;
          if (!r.text.startsWith(field)) return false;
          // The marker may appear only as a key the schema refused (a field name, quoted), never as a value.
          if (r.text.includes(marker) && !r.text.includes(`[${JSON.stringify(marker)}]`)) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it("replaces valibot's own message, which quotes the value", () => {
    const raw = v.safeParse(v.string(), 12345678);
    expect(raw.issues?.[0]?.message).toContain('12345678');
    const r = check(v.string(), 12345678);
    expect(!r.ok && r.text).toBe('expected string, got a number');
    expect(!r.ok && issueText(r.issue)).not.toContain('12345678');
  });
});

describe('kindOf', () => {
  it('says what a value is, never what it says', () => {
    expect([undefined, null, '', 'abc', 3, true, 1n, [1, 2], {}, () => 0].map(kindOf)).toEqual([
      'nothing (field missing)',
      'null',
      'an empty string',
      'a string of 3 characters',
      'a number',
      'a boolean',
      'a bigint',
      'an array of 2 entries',
      'an object',
      'a function',
    ]);
  });
});

describe('jsonMap', () => {
  const map = jsonMap({
    value: v.number(),
    key: v.pipe(v.string(), v.regex(/^[a-z_]+$/, 'not a lowercase name')),
    normaliseKey: (k) => k.replace(/_/g, ''),
    sameAs: 'the same name as',
  });

  it('keeps every own key in a null-prototype map, __proto__ and constructor included', () => {
    const r = check(jsonMap({ value: v.number() }), JSON.parse('{"__proto__": 1, "constructor": 2, "a": 3}'));
    expect(r.ok).toBe(true);
    const out = (r as { value: Record<string, number> }).value;
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.entries(out)).toEqual([
      ['__proto__', 1],
      ['constructor', 2],
      ['a', 3],
    ]);
  });

  it('names the key or value at fault, JSON-quoting keys that are not identifiers', () => {
    expect(check(map, { a: 'x' }, 'm')).toMatchObject({
      ok: false,
      text: 'm.a: expected number, got a string of 1 characters',
    });
    expect(check(map, { 'B\n': 1 }, 'm')).toMatchObject({ ok: false, text: 'm["B\\n"]: not a lowercase name' });
    expect(check(map, { ab: 1, a_b: 2 }, 'm')).toMatchObject({
      ok: false,
      text: 'm.a_b: the same name as "ab" above (one rule each: write it once)',
    });
    expect(check(map, [], 'm')).toMatchObject({ ok: false, text: 'm: expected an object, got an array of 0 entries' });
  });
});

describe('jsonSyntaxPlace', () => {
  const place = (text: string) => {
    try {
      JSON.parse(text);
    } catch (e) {
      return jsonSyntaxPlace(text, e);
    }
    throw new Error('valid JSON');
  };

  it('gives line and column where V8 knows them, nothing of the text', () => {
    expect(place('{\n  "a" 1}')).toBe('line 2, column 7');
    expect(place('{"a":')).toBe('line 1, column 6');
    expect(place('  secret-words')).toBe('line 1, column 3');
    // V8 names no position for a bad token inside the text: better none than a wrong one.
    expect(place('{"a": x}')).toBeUndefined();
  });
});
