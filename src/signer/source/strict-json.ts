/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys, other parsers
 * (a node, TRON's broadcast API, the approver) may keep the first or both: a payload that
 * repeats a key means different transactions to different readers, so hardkms refuses it.
 *
 * A lexer over the text, not a recursive parse: it works at any nesting depth (a 100,000-deep
 * payload must be judged, not crash the stack) and never throws. Text that is not JSON gives
 * no finding; the JSON parser that runs anyway reports it.
 */

interface DuplicateKey {
  /** The repeated key, decoded. */
  key: string;
  /** Index of the element of a top-level array the duplicate is in (absent for a top-level object). */
  topIndex?: number;
}

interface Frame {
  object: boolean;
  keys: Set<string> | undefined;
  awaitingKey: boolean;
  index: number;
}

/** Every duplicate key in `text` (at most `limit`), in order of appearance. */
export function duplicateKeys(text: string, limit = 100): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;
  while (i < n && found.length < limit) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      if (i >= n) return found;
      i++;
      const top = stack[stack.length - 1];
      if (top?.object === true && top.awaitingKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i)) as string;
        } catch {
          return found;
        }
        top.keys ??= new Set();
        if (top.keys.has(key)) {
          const root = stack[0]!;
          found.push(root.object ? { key } : { key, topIndex: root.index });
        } else top.keys.add(key);
        top.awaitingKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */) stack.push({ object: true, keys: undefined, awaitingKey: true, index: 0 });
    else if (c === 0x5b /* [ */) stack.push({ object: false, keys: undefined, awaitingKey: false, index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top !== undefined) {
        if (top.object) top.awaitingKey = true;
        else top.index++;
      }
    }
    i++;
  }
  return found;
}

/** The first duplicate key of `text`, or undefined. */
export function firstDuplicateKey(text: string): string | undefined {
  return duplicateKeys(text, 1)[0]?.key;
}
