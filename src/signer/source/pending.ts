/**
 * Boundary validation of pending transactions received from the Tatum API (spec §2.3).
 *
 * Everything the API returns is untrusted input: these functions never throw, whatever
 * they are given, and answer either a typed PendingTransaction or a reason that names
 * the offending field. The daemon reports malformed entries that carry a usable id (via
 * the error batch, §2.6) and skips the rest; it never crashes on input.
 *
 * Rules are those of the spec, stricter where the spec's types allow:
 * - `id` must be 24 hex characters (a Mongo ObjectId, as every example shows). Tatum's v1
 *   `BroadcastTx` validator only checks the length 24; we also require hex because the id
 *   is appended to the four-eyes URL and sent back as `signatureId`, and a '/', '?' or
 *   '..' in it would change which URL the approver sees.
 * - Optional fields may be absent or `null` (servers serialise "no value" either way).
 * - Unknown fields are ignored (forward compatibility) but are kept in `raw`, which is
 *   what the four-eyes POST shows the approver, as Tatum KMS does.
 * - `serializedTransaction` is never quoted in a reason: it can carry secrets (§7.5).
 */
import { isTatumChain, TATUM_CHAINS, type TatumChain } from './tatum-paths.js';
import { duplicateKeys, firstDuplicateKey } from './strict-json.js';

export interface PendingSignature {
  /** signatureId of a (mnemonic) wallet. */
  id: string;
  /** BIP44 address index to derive at; null when Tatum sent none (a mnemonic wallet is then skipped, §3.1 rule 2). */
  index: number | null;
}

export interface WithdrawalAddress {
  address: string;
  currency: string;
  /** BIP44 child index under the wallet's xpub; absent means 0 (§2.3). */
  derivationKey?: number;
  xpub?: string;
  destinationTag?: number | string;
  memo?: string;
  message?: string;
}

export interface WithdrawalResponse {
  /** null on the "-1" remainder entry (§2.3): it spends nothing and is never validated. */
  address: WithdrawalAddress | null;
  /** Coin units (e.g. LTC, not satoshis). */
  amount: number;
  /** Funding txid, or the literal "-1" for the synthetic change-to-pool entry. */
  vIn: string;
  /** Output index of `vIn`; absent (null from Tatum) only on the "-1" entry. */
  vInIndex?: number;
  /** BSV only; Tatum sends null on every element. */
  scriptPubKey?: string;
}

export interface PendingTransaction {
  id: string;
  chain: TatumChain;
  serializedTransaction: string;
  hashes: string[];
  signatures?: PendingSignature[];
  index?: number;
  withdrawalId?: string;
  withdrawalResponses?: WithdrawalResponse[];
  txId?: string;
}

export interface MalformedPending {
  /** Position of the entry in the API response. */
  position: number;
  /** The entry's id when it had a well-formed one (then it can be reported to Tatum). */
  id?: string;
  reason: string;
}

export type PendingValidation =
  | { ok: true; value: PendingTransaction; raw: Readonly<Record<string, unknown>> }
  | { ok: false; reason: string; id?: string };

export type PendingListValidation =
  | {
      ok: true;
      transactions: PendingTransaction[];
      raws: Readonly<Record<string, unknown>>[];
      malformed: MalformedPending[];
    }
  | { ok: false; reason: string };

export const PENDING_ID_PATTERN = /^[0-9a-fA-F]{24}$/;
/** A bound on what one pending transaction may carry, so garbage cannot exhaust memory downstream. */
export const LIMITS = {
  serializedTransactionChars: 4 * 1024 * 1024,
  stringChars: 1024,
  listLength: 10_000,
} as const;

const MAX_UINT32 = 0xffff_ffff;
const TXID_PATTERN = /^[0-9a-fA-F]{64}$/;

class Invalid {
  constructor(readonly reason: string) {}
}

/** Validates one pending transaction. `expectedChain` is the chain that was polled. */
export function validatePending(input: unknown, expectedChain?: TatumChain): PendingValidation {
  let id: string | undefined;
  try {
    if (!isPlainObject(input))
      return { ok: false, reason: `pending transaction: expected an object, got ${describe(input)}` };
    if (typeof input.id === 'string' && PENDING_ID_PATTERN.test(input.id)) id = input.id;
    const value = readPending(input, expectedChain);
    return { ok: true, value, raw: input };
  } catch (e) {
    // Invalid is our own signal; anything else (a getter that throws, a Proxy) is still input.
    const reason = e instanceof Invalid ? e.reason : `pending transaction: unreadable (${safeString(e)})`;
    return id === undefined ? { ok: false, reason } : { ok: false, reason, id };
  }
}

/**
 * Validates a whole `POST /v3/kms/pending/{chain}` response body: a JSON array of pending
 * transactions. Accepts the parsed body or its text. A body that is not an array is one
 * failure for the whole call (the daemon backs off and asks again); bad entries inside an
 * array are listed in `malformed` and the good ones are returned. An id seen twice is
 * kept once: the second entry is malformed, so nothing is signed twice from one response.
 */
export function validatePendingList(body: unknown, expectedChain?: TatumChain): PendingListValidation {
  try {
    let parsed = body;
    // Entries whose JSON repeats a key: ambiguous (JSON.parse keeps the last one, others the first).
    const ambiguous = new Map<number, string>();
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body) as unknown;
      } catch {
        return { ok: false, reason: 'pending transactions: response is not JSON' };
      }
      for (const d of duplicateKeys(body, 10_000))
        if (d.topIndex !== undefined && !ambiguous.has(d.topIndex)) ambiguous.set(d.topIndex, d.key);
    }
    if (!Array.isArray(parsed))
      return { ok: false, reason: `pending transactions: expected a JSON array, got ${describe(parsed)}` };
    const transactions: PendingTransaction[] = [];
    const raws: Readonly<Record<string, unknown>>[] = [];
    const malformed: MalformedPending[] = [];
    const seen = new Set<string>();
    parsed.forEach((entry: unknown, position) => {
      const r = validatePending(entry, expectedChain);
      const repeated = ambiguous.get(position);
      if (repeated !== undefined) {
        const id = r.ok ? r.value.id : r.id;
        const reason = `${id === undefined ? 'pending transaction' : `pending ${id}`}: the key ${JSON.stringify(repeated)} appears twice in one object; an ambiguous transaction is not signed`;
        malformed.push(id === undefined ? { position, reason } : { position, id, reason });
      } else if (!r.ok) {
        malformed.push(r.id === undefined ? { position, reason: r.reason } : { position, id: r.id, reason: r.reason });
      } else if (seen.has(r.value.id.toLowerCase())) {
        malformed.push({
          position,
          id: r.value.id,
          reason: `id ${r.value.id}: appears more than once in one response`,
        });
      } else {
        seen.add(r.value.id.toLowerCase());
        transactions.push(r.value);
        raws.push(r.raw);
      }
    });
    return { ok: true, transactions, raws, malformed };
  } catch (e) {
    return { ok: false, reason: `pending transactions: unreadable (${safeString(e)})` };
  }
}

function readPending(o: Record<string, unknown>, expectedChain: TatumChain | undefined): PendingTransaction {
  if (typeof o.id !== 'string' || !PENDING_ID_PATTERN.test(o.id)) {
    throw new Invalid(`id: expected 24 hexadecimal characters, got ${describe(o.id)}`);
  }
  const where = `pending ${o.id}`;
  if (!isTatumChain(o.chain)) {
    throw new Invalid(`${where}: chain: expected one of ${TATUM_CHAINS.join(', ')}, got ${describe(o.chain)}`);
  }
  if (expectedChain !== undefined && o.chain !== expectedChain) {
    throw new Invalid(`${where}: chain: ${o.chain} returned when polling ${expectedChain}`);
  }
  const st = o.serializedTransaction;
  if (typeof st !== 'string' || st.length === 0) {
    throw new Invalid(`${where}: serializedTransaction: expected a non-empty string, got ${typeName(st)}`);
  }
  if (st.length > LIMITS.serializedTransactionChars) {
    throw new Invalid(`${where}: serializedTransaction: longer than ${LIMITS.serializedTransactionChars} characters`);
  }
  const repeated = /^\s*[[{]/.test(st) ? firstDuplicateKey(st) : undefined;
  if (repeated !== undefined) {
    throw new Invalid(
      `${where}: serializedTransaction: the key ${JSON.stringify(repeated)} appears twice in one object; an ambiguous transaction is not signed`,
    );
  }
  const hashes = readList(o.hashes, `${where}: hashes`, (v, f) => readString(v, f));
  const pending: PendingTransaction = { id: o.id, chain: o.chain, serializedTransaction: st, hashes };

  if (!absent(o.signatures)) {
    pending.signatures = readList(o.signatures, `${where}: signatures`, (v, f) => {
      if (!isPlainObject(v)) throw new Invalid(`${f}: expected an object {id, index}, got ${describe(v)}`);
      return {
        id: readString(v.id, `${f}.id`),
        index: v.index === null || v.index === undefined ? null : readIndex(v.index, `${f}.index`),
      };
    });
  }
  if (hashes.length === 0 && (pending.signatures === undefined || pending.signatures.length === 0)) {
    throw new Invalid(`${where}: hashes: empty and no signatures; no wallet to sign with`);
  }
  if (!absent(o.index)) pending.index = readIndex(o.index, `${where}: index`);
  if (!absent(o.withdrawalId)) pending.withdrawalId = readString(o.withdrawalId, `${where}: withdrawalId`);
  if (!absent(o.withdrawalResponses)) {
    pending.withdrawalResponses = readList(
      o.withdrawalResponses,
      `${where}: withdrawalResponses`,
      readWithdrawalResponse,
    );
  }
  if (!absent(o.txId)) pending.txId = readString(o.txId, `${where}: txId`);
  return pending;
}

function readWithdrawalResponse(v: unknown, f: string): WithdrawalResponse {
  if (!isPlainObject(v))
    throw new Invalid(`${f}: expected an object {address, amount, vIn, vInIndex}, got ${describe(v)}`);
  if (typeof v.amount !== 'number' || !Number.isFinite(v.amount) || v.amount < 0) {
    throw new Invalid(`${f}.amount: expected a finite non-negative number, got ${describe(v.amount)}`);
  }
  const vIn = readString(v.vIn, `${f}.vIn`);
  if (vIn === '-1') {
    // The pool-remainder entry spends nothing: Tatum sends {address: null, vInIndex: null,
    // scriptPubKey: null} (§2.3). Nothing on it but the amount is read, so nothing on it can fail.
    return { address: null, amount: v.amount, vIn };
  }
  if (!TXID_PATTERN.test(vIn))
    throw new Invalid(`${f}.vIn: expected a 64-hex-character txid or "-1", got ${describe(vIn)}`);
  const idx = v.vInIndex;
  if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx > MAX_UINT32) {
    throw new Invalid(`${f}.vInIndex: expected an output index (0..${MAX_UINT32}), got ${describe(idx)}`);
  }
  const out: WithdrawalResponse = {
    address: readWithdrawalAddress(v.address, `${f}.address`),
    amount: v.amount,
    vIn,
    vInIndex: idx,
  };
  if (!absent(v.scriptPubKey)) out.scriptPubKey = readString(v.scriptPubKey, `${f}.scriptPubKey`, true);
  return out;
}

function readWithdrawalAddress(a: unknown, f: string): WithdrawalAddress {
  if (!isPlainObject(a))
    throw new Invalid(`${f}: expected an object {address, currency, derivationKey?}, got ${describe(a)}`);
  const address: WithdrawalAddress = {
    address: readString(a.address, `${f}.address`),
    currency: readString(a.currency, `${f}.currency`),
  };
  if (!absent(a.derivationKey)) address.derivationKey = readIndex(a.derivationKey, `${f}.derivationKey`);
  if (!absent(a.xpub)) address.xpub = readString(a.xpub, `${f}.xpub`);
  if (!absent(a.destinationTag)) {
    const t = a.destinationTag;
    if (
      typeof t === 'number' ? !Number.isSafeInteger(t) || t < 0 : typeof t !== 'string' || t.length > LIMITS.stringChars
    ) {
      throw new Invalid(`${f}.destinationTag: expected a non-negative integer or a string, got ${describe(t)}`);
    }
    address.destinationTag = t as number | string;
  }
  if (!absent(a.memo)) address.memo = readString(a.memo, `${f}.memo`, true);
  if (!absent(a.message)) address.message = readString(a.message, `${f}.message`, true);
  return address;
}

function readList<T>(v: unknown, f: string, item: (v: unknown, f: string) => T): T[] {
  if (!Array.isArray(v)) throw new Invalid(`${f}: expected an array, got ${describe(v)}`);
  if (v.length > LIMITS.listLength) throw new Invalid(`${f}: more than ${LIMITS.listLength} entries`);
  return v.map((x: unknown, i) => item(x, `${f}[${i}]`));
}

function readString(v: unknown, f: string, allowEmpty = false): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0) || v.length > LIMITS.stringChars) {
    throw new Invalid(
      `${f}: expected a ${allowEmpty ? '' : 'non-empty '}string of at most ${LIMITS.stringChars} characters, got ${describe(v)}`,
    );
  }
  return v;
}

/** BIP32 non-hardened child index: 0 .. 2^31-1. */
function readIndex(v: unknown, f: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fff_ffff) {
    throw new Invalid(`${f}: expected an integer 0..2147483647, got ${describe(v)}`);
  }
  return v;
}

function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Short, safe description of a value for a reason: its type, and small scalars verbatim. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeName(v)} ${String(v)}`;
  if (typeof v === 'string') {
    const shown = v.length > 40 ? `${v.slice(0, 40)}…` : v;
    return `${typeName(v)} ${JSON.stringify(shown)}${v.length > 40 ? ` (${v.length} characters)` : ''}`;
  }
  return typeName(v);
}

function safeString(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unprintable error';
  }
}
