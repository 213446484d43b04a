/**
 * What kind of value a piece of untrusted JSON is, for error messages that must not repeat
 * it (a payload, a node's or Tatum's answer may carry text an attacker chose, and a refusal
 * goes to the log and back to Tatum in the error batch). Kept apart from validate.ts, which
 * re-exports both, so that byte-level parsers (chains/decoded.ts) use them without loading valibot.
 */

/** What a value is, never what it says: type, and the length of strings and arrays. */
export function kindOf(input: unknown): string {
  try {
    if (input === undefined) return 'nothing (field missing)';
    if (input === null) return 'null';
    if (Array.isArray(input)) return `an array of ${input.length} entries`;
    switch (typeof input) {
      case 'string':
        return input.length === 0 ? 'an empty string' : `a string of ${input.length} characters`;
      case 'object':
        return 'an object';
      case 'bigint':
      case 'boolean':
      case 'number':
      case 'function':
      case 'symbol':
        return `a ${typeof input}`;
      default:
        return 'a value';
    }
  } catch {
    return 'an unreadable value';
  }
}

/** A JSON object: not an array, not null. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
