/**
 * What kind of value a piece of untrusted JSON is, for error messages that must not repeat
 * it (a payload, a node's or Tatum's answer may carry text an attacker chose, and a refusal
 * goes to the log and back to Tatum in the error batch). Kept apart from validate.ts, which
 * re-exports them, so that byte-level parsers (chains/decoded.ts) and the HTTP client use them without loading valibot.
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

/**
 * Why `JSON.parse(text)` failed, as "line L, column C" when V8 says where, never V8's
 * message itself: for most errors it quotes the start of the text ("Unexpected token 'd',
 * \"d3adb33f…\" is not valid JSON"), and the text may be a secret in the wrong file.
 */
export function jsonSyntaxPlace(text: string, error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  const m = /at position (\d+)/.exec(message);
  let at: number | undefined;
  if (m !== null) at = Number(m[1]);
  else if (/end of JSON input/.test(message)) at = text.length;
  else {
    // "Unexpected token 'x', …" has no position; it is the first character for a file that is
    // not JSON at all (the token is compared here, never printed).
    const token = /^Unexpected token '(.)'/u.exec(message)?.[1];
    const lead = /^\s*/.exec(text)![0].length;
    if (token !== undefined && text.startsWith(token, lead)) at = lead;
  }
  if (at === undefined || !Number.isSafeInteger(at) || at > text.length) return undefined;
  const before = text.slice(0, at).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}
