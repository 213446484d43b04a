import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readEnv, type EnvSource } from '../config/env.js';

/**
 * SoftHSM2's file object store, read without the library: where a token's directory is,
 * and whether its files are whole. SoftHSM2 rewrites token.object in place (truncate, then
 * write) on every C_Login and C_SetPIN, so a process killed at that moment leaves it short
 * or empty; the library then reports the slot as an uninitialised token and every key is gone.
 */

/** Debian, Alpine and Homebrew defaults, in that order, when SOFTHSM2_CONF is not set. */
const DEFAULT_CONF_PATHS = [
  '/etc/softhsm/softhsm2.conf',
  '/etc/softhsm2.conf',
  '/usr/local/etc/softhsm/softhsm2.conf',
  '/opt/homebrew/etc/softhsm/softhsm2.conf',
];

export interface SoftHsmConfig {
  confPath: string;
  tokenDir: string;
  backend: string;
}

/**
 * The config SoftHSM2 itself would read, or undefined when there is none to read. SOFTHSM2_CONF
 * is read when a token is opened or checked, as the library reads it then (`env`: a test's).
 */
export function readSoftHsmConfig(env?: EnvSource): SoftHsmConfig | undefined {
  const confPath = readEnv('SOFTHSM2_CONF', env) ?? DEFAULT_CONF_PATHS.find((p) => existsSync(p));
  if (!confPath || !existsSync(confPath)) return undefined;
  let tokenDir: string | undefined;
  let backend = 'file';
  for (const raw of readFileSync(confPath, 'utf8').split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^([\w.]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'directories.tokendir') tokenDir = m[2]!.trim();
    if (m[1] === 'objectstore.backend') backend = m[2]!.trim();
  }
  if (!tokenDir) return undefined;
  return { confPath, tokenDir: resolve(tokenDir), backend };
}

/** Vendor attributes SoftHSM2 keeps in token.object (its OSAttributes.h). */
const TOKEN_ATTR = {
  label: 0x80005349,
  serial: 0x8000534a,
  flags: 0x8000534b,
  soPin: 0x8000534c,
  userPin: 0x8000534d,
} as const;

type ObjectFileCheck =
  { ok: true; attributes: Map<number, Buffer | number | boolean> } | { ok: false; problem: string };

/**
 * Parses one object file (8-byte generation, then type/kind/value triples, all integers
 * 64-bit big-endian). Whole means: every attribute complete and nothing left over.
 */
export function parseObjectFile(bytes: Buffer): ObjectFileCheck {
  if (bytes.length === 0) return { ok: false, problem: 'empty (0 bytes)' };
  if (bytes.length < 8) return { ok: false, problem: `truncated (${bytes.length} bytes)` };
  const attributes = new Map<number, Buffer | number | boolean>();
  let at = 8;
  const ulong = (): number | undefined => {
    if (at + 8 > bytes.length) return undefined;
    const v = Number(bytes.readBigUInt64BE(at));
    at += 8;
    return v;
  };
  while (at < bytes.length) {
    const type = ulong();
    const kind = ulong();
    if (type === undefined || kind === undefined) return { ok: false, problem: `truncated at byte ${bytes.length}` };
    if (kind === 1) {
      if (at + 1 > bytes.length) return { ok: false, problem: `truncated at byte ${bytes.length}` };
      attributes.set(type, bytes[at] !== 0);
      at += 1;
    } else if (kind === 2) {
      const v = ulong();
      if (v === undefined) return { ok: false, problem: `truncated at byte ${bytes.length}` };
      attributes.set(type, v);
    } else if (kind === 3 || kind === 4) {
      // byte string, or attribute map (its length is in bytes too)
      const len = ulong();
      if (len === undefined || at + len > bytes.length)
        return { ok: false, problem: `truncated at byte ${bytes.length}` };
      attributes.set(type, bytes.subarray(at, at + len));
      at += len;
    } else if (kind === 5) {
      const count = ulong();
      if (count === undefined || at + count * 8 > bytes.length)
        return { ok: false, problem: `truncated at byte ${bytes.length}` };
      at += count * 8;
      attributes.set(type, count);
    } else {
      return { ok: false, problem: `unreadable at byte ${at - 8} (attribute kind ${kind})` };
    }
  }
  return { ok: true, attributes };
}

interface TokenObjectFacts {
  label: string;
  serial: string;
  userPin: Buffer | undefined;
}

/** token.object checked for what SoftHSM2 needs to see an initialised token. */
export function parseTokenObject(
  bytes: Buffer,
): { ok: true; facts: TokenObjectFacts } | { ok: false; problem: string } {
  const parsed = parseObjectFile(bytes);
  if (!parsed.ok) return parsed;
  const label = parsed.attributes.get(TOKEN_ATTR.label);
  const serial = parsed.attributes.get(TOKEN_ATTR.serial);
  const soPin = parsed.attributes.get(TOKEN_ATTR.soPin);
  if (!Buffer.isBuffer(label) || !Buffer.isBuffer(serial) || !Buffer.isBuffer(soPin)) {
    return { ok: false, problem: 'incomplete (no label, serial or SO PIN)' };
  }
  const userPin = parsed.attributes.get(TOKEN_ATTR.userPin);
  return {
    ok: true,
    facts: {
      label: label.toString('utf8').replace(/\0/g, '').trim(),
      serial: serial.toString('utf8').replace(/\0/g, '').trim(),
      userPin: Buffer.isBuffer(userPin) ? Buffer.from(userPin) : undefined,
    },
  };
}

/** A token's state files: token.object, generation and the object files (never the .lock files). */
export function stateFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f === 'generation' || f.endsWith('.object'))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

interface LiveToken {
  /** The token's own directory inside tokendir (its name is a UUID). */
  dir: string;
  label: string;
  serial: string;
}

/** The token directories whose token.object is whole, by label. */
export function findLiveTokens(tokenDir: string): LiveToken[] {
  if (!existsSync(tokenDir)) return [];
  const out: LiveToken[] = [];
  for (const name of readdirSync(tokenDir)) {
    const dir = join(tokenDir, name);
    const file = join(dir, 'token.object');
    if (!existsSync(file)) continue;
    const parsed = parseTokenObject(readFileSync(file));
    if (parsed.ok) out.push({ dir, label: parsed.facts.label, serial: parsed.facts.serial });
  }
  return out;
}
