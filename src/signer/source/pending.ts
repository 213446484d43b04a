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
 * - A reason never quotes a received value (src/validate.ts): `serializedTransaction` can
 *   carry secrets (§7.5), and the reason goes back to the API in the error batch.
 */
import { check, expecting, isPlainObject, jsonObject, kindOf, v } from '../../validate.js';
import { TATUM_CHAINS, type TatumChain } from './tatum-paths.js';
import { duplicateKeys, firstDuplicateKey } from './strict-json.js';

interface PendingSignature {
  /** signatureId of a (mnemonic) wallet. */
  id: string;
  /** BIP44 address index to derive at; null when Tatum sent none (a mnemonic wallet is then skipped, §3.1 rule 2). */
  index: number | null;
}

interface WithdrawalAddress {
  address: string;
  currency: string;
  /** BIP44 child index under the wallet's xpub; absent means 0 (§2.3). */
  derivationKey?: number;
  xpub?: string;
  destinationTag?: number | string;
  memo?: string;
  message?: string;
}

interface WithdrawalResponse {
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

type PendingValidation =
  | { ok: true; value: PendingTransaction; raw: Readonly<Record<string, unknown>> }
  | { ok: false; reason: string; id?: string };

type PendingListValidation =
  | {
      ok: true;
      transactions: PendingTransaction[];
      raws: Readonly<Record<string, unknown>>[];
      malformed: MalformedPending[];
    }
  | { ok: false; reason: string };

export const PENDING_ID_PATTERN = /^[0-9a-fA-F]{24}$/;
/** A bound on what one pending transaction may carry, so garbage cannot exhaust memory downstream. */
const LIMITS = {
  serializedTransactionChars: 4 * 1024 * 1024,
  stringChars: 1024,
  listLength: 10_000,
} as const;

const MAX_UINT32 = 0xffff_ffff;
const TXID_PATTERN = /^[0-9a-fA-F]{64}$/;
const AMBIGUOUS = 'appears twice in one object; an ambiguous transaction is not signed';

/** Drops the fields Tatum sent as null or left out, so that absent reads as absent. */
type Present<T> = { [K in keyof T]: Exclude<T[K], null> };
function present<T extends object>(o: T): Present<T> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) if (x !== null && x !== undefined) out[k] = x;
  return out as Present<T>;
}

function text(allowEmpty = false) {
  const m = expecting(`a ${allowEmpty ? '' : 'non-empty '}string of at most ${LIMITS.stringChars} characters`);
  return v.pipe(
    v.string(m),
    v.check((s) => (allowEmpty || s.length > 0) && s.length <= LIMITS.stringChars, m),
  );
}

/** BIP32 non-hardened child index: 0 .. 2^31-1. */
const bip32Index = v.pipe(
  v.number(expecting('an integer 0..2147483647')),
  v.check((n) => Number.isInteger(n) && n >= 0 && n <= 0x7fff_ffff, expecting('an integer 0..2147483647')),
);

function list<T>(item: v.GenericSchema<unknown, T>) {
  return v.pipe(
    v.custom<unknown[]>(Array.isArray, expecting('an array')),
    v.check((a) => a.length <= LIMITS.listLength, `more than ${LIMITS.listLength} entries`),
    v.array(item),
  );
}

const signature: v.GenericSchema<unknown, PendingSignature> = v.pipe(
  jsonObject({ id: text(), index: v.nullish(bip32Index) }, 'an object {id, index}'),
  v.transform((s) => ({ id: s.id, index: s.index ?? null })),
);

const destinationTag = v.custom<number | string>(
  (t) =>
    typeof t === 'number' ? Number.isSafeInteger(t) && t >= 0 : typeof t === 'string' && t.length <= LIMITS.stringChars,
  expecting('a non-negative integer or a string'),
);

const withdrawalAddress: v.GenericSchema<unknown, WithdrawalAddress> = v.pipe(
  jsonObject(
    {
      address: text(),
      currency: text(),
      derivationKey: v.nullish(bip32Index),
      xpub: v.nullish(text()),
      destinationTag: v.nullish(destinationTag),
      memo: v.nullish(text(true)),
      message: v.nullish(text(true)),
    },
    'an object {address, currency, derivationKey?}',
  ),
  v.transform(present),
);

const amount = v.pipe(
  v.number(expecting('a finite non-negative number')),
  v.check((n) => Number.isFinite(n) && n >= 0, expecting('a finite non-negative number')),
);

// The pool-remainder entry spends nothing: Tatum sends {address: null, vInIndex: null,
// scriptPubKey: null} (§2.3). Nothing on it but the amount is read, so nothing on it can fail.
const remainder: v.GenericSchema<unknown, WithdrawalResponse> = v.pipe(
  jsonObject({ amount, vIn: v.literal('-1') }),
  v.transform((w) => ({ address: null, amount: w.amount, vIn: w.vIn })),
);

const spentInput: v.GenericSchema<unknown, WithdrawalResponse> = v.pipe(
  jsonObject(
    {
      amount,
      vIn: v.pipe(text(), v.regex(TXID_PATTERN, expecting('a 64-hex-character txid or "-1"'))),
      vInIndex: v.pipe(
        v.number(expecting(`an output index (0..${MAX_UINT32})`)),
        v.check(
          (n) => Number.isInteger(n) && n >= 0 && n <= MAX_UINT32,
          expecting(`an output index (0..${MAX_UINT32})`),
        ),
      ),
      address: withdrawalAddress,
      scriptPubKey: v.nullish(text(true)),
    },
    'an object {address, amount, vIn, vInIndex}',
  ),
  v.transform(present),
);

const withdrawalResponse = v.lazy((w) =>
  isPlainObject(w) && Object.hasOwn(w, 'vIn') && w.vIn === '-1' ? remainder : spentInput,
);

const serializedTransaction = v.pipe(
  v.string(expecting('a non-empty string')),
  v.check((st) => st.length > 0, expecting('a non-empty string')),
  v.check(
    (st) => st.length <= LIMITS.serializedTransactionChars,
    `longer than ${LIMITS.serializedTransactionChars} characters`,
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const repeated = /^\s*[[{]/.test(dataset.value) ? firstDuplicateKey(dataset.value) : undefined;
    // The key is a field name of the payload, not one of its values: naming it says what to fix.
    if (repeated !== undefined) addIssue({ message: `the key ${JSON.stringify(repeated)} ${AMBIGUOUS}` });
  }),
);

const schemas = new Map<TatumChain | undefined, v.GenericSchema<unknown, PendingTransaction>>();

/** The schema of a pending transaction polled for `expectedChain` (built once per chain). */
function pendingSchema(expectedChain: TatumChain | undefined): v.GenericSchema<unknown, PendingTransaction> {
  let schema = schemas.get(expectedChain);
  if (schema !== undefined) return schema;
  schema = v.pipe(
    jsonObject({
      id: v.pipe(
        v.string(expecting('24 hexadecimal characters')),
        v.regex(PENDING_ID_PATTERN, expecting('24 hexadecimal characters')),
      ),
      chain: v.pipe(
        v.picklist(TATUM_CHAINS, expecting(`one of ${TATUM_CHAINS.join(', ')}`)),
        // The chain is one of the list by now, not free text.
        v.check(
          (c) => expectedChain === undefined || c === expectedChain,
          (i) => `${String(i.input)} returned when polling ${expectedChain}`,
        ),
      ),
      serializedTransaction,
      hashes: list(text()),
      signatures: v.nullish(list(signature)),
      index: v.nullish(bip32Index),
      withdrawalId: v.nullish(text()),
      withdrawalResponses: v.nullish(list(withdrawalResponse)),
      txId: v.nullish(text()),
    }),
    v.forward(
      v.check(
        (p) => p.hashes.length > 0 || (p.signatures?.length ?? 0) > 0,
        'empty and no signatures; no wallet to sign with',
      ),
      ['hashes'],
    ),
    v.transform(present),
  );
  schemas.set(expectedChain, schema);
  return schema;
}

/** Validates one pending transaction. `expectedChain` is the chain that was polled. */
export function validatePending(input: unknown, expectedChain?: TatumChain): PendingValidation {
  let id: string | undefined;
  try {
    if (!isPlainObject(input))
      return { ok: false, reason: `pending transaction: expected an object, got ${kindOf(input)}` };
    if (typeof input.id === 'string' && PENDING_ID_PATTERN.test(input.id)) id = input.id;
    const r = check(pendingSchema(expectedChain), input);
    if (r.ok) return { ok: true, value: r.value, raw: input };
    // The id names the transaction in every other reason; its own problem is said alone.
    const reason = id === undefined ? r.text : `pending ${id}: ${r.text}`;
    return id === undefined ? { ok: false, reason } : { ok: false, reason, id };
  } catch (e) {
    // A getter that throws, a Proxy: still input, never a crash.
    const reason = `pending transaction: unreadable (${safeString(e)})`;
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
      return { ok: false, reason: `pending transactions: expected a JSON array, got ${kindOf(parsed)}` };
    const transactions: PendingTransaction[] = [];
    const raws: Readonly<Record<string, unknown>>[] = [];
    const malformed: MalformedPending[] = [];
    const seen = new Set<string>();
    parsed.forEach((entry: unknown, position) => {
      const r = validatePending(entry, expectedChain);
      const repeated = ambiguous.get(position);
      if (repeated !== undefined) {
        const id = r.ok ? r.value.id : r.id;
        const reason = `${id === undefined ? 'pending transaction' : `pending ${id}`}: the key ${JSON.stringify(repeated)} ${AMBIGUOUS}`;
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

function safeString(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unprintable error';
  }
}
