/**
 * The one way hardkms checks untrusted JSON (Tatum's answers, the policy file, records read
 * back from wallet.dat, token profiles): a valibot schema, run by `check()`, whose first
 * issue `issueText()` turns into "where: what was expected, got what kind of value".
 *
 * valibot's own messages quote the received value ("Received \"…\""); a KMS must not echo a
 * payload or a secret into a log or an error batch, so `check()` replaces every default
 * message by one that names the value's kind only, and schemas' own messages are written
 * without the input. Byte-level formats (hex, WIF, mnemonics, modhex) keep their
 * hand-written parsers; schemas call them through `v.check`.
 *
 * Import this module only from code that already handles such input (the daemon, vault
 * opening, file loaders): valibot then costs nothing at `--help`.
 */
import * as v from 'valibot';
import { isPlainObject, jsonSyntaxPlace, kindOf } from './value-kind.js';

export { v, isPlainObject, jsonSyntaxPlace, kindOf };

export type Issue = v.BaseIssue<unknown>;

/** A message for a schema: "expected <what>, got <kind of the input>". */
export function expecting(what: string): (issue: Issue) => string {
  return (issue) => `expected ${what}, got ${kindOf(issue.input)}`;
}

/** The message of every issue a schema gives none: valibot's `expected`, which comes from the schema. */
function defaultMessage(issue: Issue): string {
  if (issue.kind === 'schema' && issue.path?.at(-1)?.origin === 'key') {
    // An object's key issues: a key it does not accept, or one it needs (a record's keys are values).
    if (issue.expected === 'never') return 'not an accepted field';
    if (issue.input === undefined) return 'required, but missing';
  }
  // Actions without an `expected` (integer, safe_integer…) are named by their type.
  return `expected ${issue.expected ?? issue.type.replace(/_/g, ' ')}, got ${kindOf(issue.input)}`;
}

/** `a.b[0].c` for the issue's path (keys that are not identifiers are JSON-quoted), after `at` when given. */
function pathText(issue: Issue, at = ''): string {
  return keyPath(
    (issue.path ?? []).map((item) => item.key),
    at,
  );
}

/**
 * `a.b[0]["x y"]` for keys read from untrusted JSON: a key that is not an identifier is
 * JSON-quoted, so a key with control characters or quotes cannot forge a line of output.
 */
function keyPath(keys: readonly unknown[], at = ''): string {
  let out = at;
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string')
      out += /^[A-Za-z_$][\w$]*$/.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    else out += '[?]';
  }
  return out;
}

/**
 * The one formatter: "path: message", or the message alone at the top level. It never
 * includes the received value (neither `issue.input` nor `issue.received`). `at` names
 * where the checked value sits in a larger record ("otp", "chains.ETH").
 */
export function issueText(issue: Issue, at = ''): string {
  const where = pathText(issue, at);
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}

type Checked<T> = { ok: true; value: T } | { ok: false; issue: Issue; text: string };

/** Runs a schema on untrusted input; stops at the first issue (one clear reason, no transform of bad input). */
export function check<S extends v.GenericSchema>(schema: S, input: unknown, at = ''): Checked<v.InferOutput<S>> {
  const r = v.safeParse(schema, input, { abortEarly: true, message: defaultMessage });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  return { ok: false, issue, text: issueText(issue, at) };
}

/** Like `check`, but throws `fail(text)` (a HardkmsError of the caller's code) on the first issue. */
export function parseOrThrow<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  fail: (text: string) => Error,
  at = '',
): v.InferOutput<S> {
  const r = check(schema, input, at);
  if (!r.ok) throw fail(r.text);
  return r.value;
}

/** A JSON object (not an array, not null), then `entries` as valibot's object (unknown keys dropped). */
export function jsonObject<E extends v.ObjectEntries>(entries: E, what = 'an object') {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, expecting(what)), v.object(entries));
}

/** As `jsonObject`, keeping keys not listed (records a newer version may have extended). */
export function looseJsonObject<E extends v.ObjectEntries>(entries: E, what = 'an object') {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, expecting(what)), v.looseObject(entries));
}

/**
 * As `jsonObject`, refusing keys not listed (files an operator writes: a typo must not pass
 * silently); `unknownKey` says so for such a key ("not a rule field (maxAmount, …)").
 */
export function strictJsonObject<E extends v.ObjectEntries>(entries: E, what = 'an object', unknownKey?: string) {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, expecting(what)), v.strictObject(entries, unknownKey));
}

/**
 * A JSON object used as a map (keys are data) into a null-prototype object, each value
 * checked by `value` (or by `value(key)` when the rule depends on the key), each key by
 * `key`. Use it, never valibot's `record`, for untrusted JSON: `record` silently drops
 * `__proto__`, `constructor` and `prototype`; here every own key is kept or refused. `normaliseKey` maps keys that mean the same thing to one
 * (addresses in two letter cases): two such keys are refused as ambiguous, naming both.
 */
export function jsonMap<T>(options: {
  value: v.GenericSchema<unknown, T> | ((key: string) => v.GenericSchema<unknown, T>);
  key?: v.GenericSchema<string, string>;
  normaliseKey?: (key: string) => string;
  /** How two keys that normalise to one are described: "the same contract as". */
  sameAs?: string;
  what?: string;
}) {
  const { value, key, normaliseKey, sameAs = 'the same entry as', what = 'an object' } = options;
  return v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, expecting(what)),
    v.rawTransform(({ dataset, config: outer, addIssue, NEVER }) => {
      // The caller's config (check()'s messages, abortEarly) for the keys and values too.
      const config = outer as v.Config<Issue>;
      const input = dataset.value;
      const out = Object.create(null) as Record<string, T>;
      const firstKey = new Map<string, string>();
      for (const k of Object.keys(input)) {
        const pathItem = { type: 'object' as const, origin: 'value' as const, input, key: k, value: input[k] };
        if (key !== undefined) {
          const r = v.safeParse(key, k, config);
          if (!r.success) {
            addIssue({ message: r.issues[0].message, input: k, path: [{ ...pathItem, origin: 'key' }] });
            return NEVER;
          }
        }
        const r = v.safeParse(typeof value === 'function' ? value(k) : value, input[k], config);
        if (!r.success) {
          const inner = r.issues[0];
          addIssue({ message: inner.message, input: inner.input, path: [pathItem, ...(inner.path ?? [])] });
          return NEVER;
        }
        const name = normaliseKey === undefined ? k : normaliseKey(k);
        const earlier = firstKey.get(name);
        if (earlier !== undefined) {
          addIssue({
            message: `${sameAs} ${JSON.stringify(earlier)} above (one rule each: write it once)`,
            input: k,
            path: [pathItem],
          });
          return NEVER;
        }
        firstKey.set(name, k);
        out[name] = r.output;
      }
      return out;
    }),
  );
}
