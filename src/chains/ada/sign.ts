/**
 * ADA through Cardano Rosetta's construction flow, as Tatum KMS signs it (spec §3.7, §2.10):
 * the pending transaction's `serializedTransaction` is a JSON array of Rosetta operations;
 * the signer calls Tatum's Rosetta `construction/preprocess` (metadata relative_ttl 1000),
 * `construction/metadata`, `construction/payloads`, signs each payload's `hex_bytes` with
 * the key whose address is the payload's `account_identifier.address` (ed25519,
 * edwards25519), and `construction/combine` returns the signed transaction Tatum broadcasts.
 *
 * Beyond Tatum (which signs whatever `payloads` returns): the unsigned transaction is
 * decoded and must be exactly what the operations say (the same inputs, the same outputs in
 * order with the same amounts, the fee = inputs − outputs, nothing else: no certificate,
 * withdrawal, mint, script or auxiliary data); each payload must be the blake2b-256 of that
 * body and name an input's address; every input address must belong to a key of the
 * transaction; the combined transaction must carry that same body and our signatures.
 * A Rosetta node that lies therefore cannot get anything else signed.
 */
import type * as CslType from '@emurgo/cardano-serialization-lib-nodejs';
import { HardkmsError, InputError } from '../../errors.js';
import {
  bytesEqual,
  kindOf,
  isPlainObject,
  mismatchError,
  payloadError,
  toHex,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { adaAddress, csl, parseAdaAddress } from './address.js';
import { openRosettaEnvelope } from './envelope.js';
import { adaBodyHash } from './keys.js';
import { verifyEd25519 } from '../../ed25519-verify.js';

export type AdaRosettaEndpoint =
  | 'construction/preprocess'
  | 'construction/metadata'
  | 'construction/payloads'
  | 'construction/combine'
  | 'construction/derive';

/** Tatum's Rosetta endpoints for one network (src/signer/sinks/ada-rosetta.ts). */
export interface AdaRosetta {
  post(endpoint: AdaRosettaEndpoint, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close?(): void;
}

/** A key that signs ADA payloads: an ed25519 extended key on the host (mnemonic child), wiped by its owner. */
export interface AdaSigner {
  readonly signatureId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Rosetta's network identifier (Tatum's cardanoUtils.networkIdentifier). */
function adaNetworkIdentifier(testnet: boolean): { blockchain: 'cardano'; network: 'preprod' | 'mainnet' } {
  return { blockchain: 'cardano', network: testnet ? 'preprod' : 'mainnet' };
}

/** Tatum's relative TTL for preprocess (slots). */
const ADA_RELATIVE_TTL = 1000;

interface AdaInput {
  address: string;
  addressBytes: Uint8Array;
  amount: bigint;
  txHash: string;
  index: number;
}

interface AdaOutput {
  address: string;
  addressBytes: Uint8Array;
  amount: bigint;
}

interface AdaOperations {
  /** The operations exactly as Tatum sent them: sent to Rosetta unchanged. */
  raw: unknown[];
  inputs: AdaInput[];
  outputs: AdaOutput[];
  /** Inputs − outputs (lovelace): the fee the body must carry. */
  fee: bigint;
}

const LOVELACE_MAX = 45_000_000_000_000_000n; // the total supply: no amount is larger

function amountOf(op: Record<string, unknown>, i: number, sign: -1n | 1n): bigint {
  const amount = op.amount;
  if (!isPlainObject(amount)) throw payloadError('ADA', `operations[${i}].amount must be an object`);
  const cur = amount.currency;
  if (!isPlainObject(cur) || cur.symbol !== 'ADA' || cur.decimals !== 6) {
    throw unsupportedError(
      'ADA',
      `operations[${i}].amount.currency must be {symbol: "ADA", decimals: 6}; native tokens are not signed`,
    );
  }
  const v = amount.value;
  const re = sign === -1n ? /^-[1-9][0-9]{0,17}$/ : /^[1-9][0-9]{0,17}$/;
  if (typeof v !== 'string' || !re.test(v)) {
    throw payloadError(
      'ADA',
      `operations[${i}].amount.value must be a ${sign === -1n ? 'negative (input)' : 'positive (output)'} lovelace integer string, got ${kindOf(v)}`,
    );
  }
  const n = BigInt(v) * sign;
  if (n > LOVELACE_MAX) throw payloadError('ADA', `operations[${i}].amount.value is more lovelace than exist`);
  return n;
}

/**
 * The operations of a pending ADA transaction: inputs (`coin_change.coin_identifier.identifier`
 * "txhash:index", negative amount) and outputs (positive amount), ADA only, addresses of this
 * net. Anything else (staking, pool, vote operations, native tokens) is refused.
 */
export function parseAdaOperations(payload: unknown, testnet: boolean): AdaOperations {
  let value: unknown = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch {
      throw payloadError('ADA', 'serializedTransaction is not valid JSON');
    }
  }
  if (!Array.isArray(value) || value.length === 0)
    throw payloadError('ADA', 'serializedTransaction must be a non-empty JSON array of Rosetta operations');
  if (value.length > 1000) throw payloadError('ADA', 'serializedTransaction has more than 1000 operations');
  const inputs: AdaInput[] = [];
  const outputs: AdaOutput[] = [];
  const seen = new Set<string>();
  value.forEach((op: unknown, i) => {
    if (!isPlainObject(op)) throw payloadError('ADA', `operations[${i}] must be an object`);
    const account = op.account;
    if (!isPlainObject(account) || typeof account.address !== 'string')
      throw payloadError('ADA', `operations[${i}].account.address must be a string`);
    let parsed;
    try {
      parsed = parseAdaAddress(account.address, testnet, `operations[${i}].account.address`);
    } catch (e) {
      if (e instanceof InputError) throw payloadError('ADA', e.message);
      throw e;
    }
    const md = op.metadata;
    if (md !== undefined && md !== null && (!isPlainObject(md) || Object.keys(md).length > 0)) {
      throw unsupportedError(
        'ADA',
        `operations[${i}].metadata must be empty ({}); token bundles and staking data are not signed`,
      );
    }
    if (op.type === 'input') {
      const id =
        isPlainObject(op.coin_change) && isPlainObject(op.coin_change.coin_identifier)
          ? op.coin_change.coin_identifier.identifier
          : undefined;
      const m = typeof id === 'string' ? /^([0-9a-fA-F]{64}):(0|[1-9][0-9]{0,4})$/.exec(id) : null;
      if (m === null)
        throw payloadError(
          'ADA',
          `operations[${i}].coin_change.coin_identifier.identifier must be "<64-hex tx hash>:<output index>"`,
        );
      const key = `${m[1]!.toLowerCase()}:${m[2]}`;
      if (seen.has(key)) throw mismatchError('ADA', `operations[${i}] spends ${key} a second time`);
      seen.add(key);
      inputs.push({
        address: parsed.text,
        addressBytes: parsed.bytes,
        amount: amountOf(op, i, -1n),
        txHash: m[1]!.toLowerCase(),
        index: Number(m[2]),
      });
    } else if (op.type === 'output') {
      if (op.coin_change !== undefined) throw payloadError('ADA', `operations[${i}] is an output with a coin_change`);
      outputs.push({ address: parsed.text, addressBytes: parsed.bytes, amount: amountOf(op, i, 1n) });
    } else {
      throw unsupportedError(
        'ADA',
        `operations[${i}].type is not signed: only "input" and "output", no staking, pool or vote operations (got ${kindOf(op.type)})`,
      );
    }
  });
  if (inputs.length === 0) throw payloadError('ADA', 'the operations have no input');
  if (outputs.length === 0) throw payloadError('ADA', 'the operations have no output');
  const fee = inputs.reduce((a, x) => a + x.amount, 0n) - outputs.reduce((a, x) => a + x.amount, 0n);
  if (fee <= 0n)
    throw mismatchError('ADA', `the outputs spend ${fee === 0n ? 'all of' : 'more than'} the inputs: no fee is left`);
  return { raw: value, inputs, outputs, fee };
}

/** What the policy sees: every output not paid back to a key of the transaction (that is change), and the exact fee. */
export function decodeAda(ops: AdaOperations, ownAddresses: readonly string[]): DecodedTx {
  const own = new Set(ownAddresses);
  return {
    chain: 'ADA',
    outputs: ops.outputs.filter((o) => !own.has(o.address)).map((o) => ({ address: o.address, amount: o.amount })),
    fee: ops.fee,
  };
}

/** Every input must be spent by a key of the transaction (Tatum would sign with an undefined key and fail). */
export function adaSignersByAddress(
  ops: AdaOperations,
  signers: readonly AdaSigner[],
  testnet: boolean,
): Map<string, AdaSigner> {
  const byAddress = new Map<string, AdaSigner>();
  for (const s of signers) byAddress.set(adaAddress(s.publicKey, testnet), s);
  for (const inp of ops.inputs) {
    if (!byAddress.has(inp.address)) {
      throw new HardkmsError(
        'TX_SIGNER_MISSING',
        `ADA payload: input ${inp.txHash}:${inp.index} is at ${inp.address}, which is not the address of any wallet of this transaction`,
        {
          hint: 'Name the wallet (signatures[{id, index}]) whose key owns each input address; nothing was signed.',
        },
      );
    }
  }
  return byAddress;
}

interface AdaCheckedUnsigned {
  unsignedTransaction: string;
  bodyHash: Uint8Array;
  /** Rosetta's signing payloads as it sent them, each with the signer of its address. */
  payloads: { payload: Record<string, unknown>; signer: AdaSigner }[];
}

function rosettaError(why: string): HardkmsError {
  return mismatchError(
    'ADA',
    `the Rosetta node's ${why}`,
    "The Rosetta answer was not signed. Check the node (HARDKMS_RPC_ADA or Tatum's); report it if it is Tatum's.",
  );
}

const ALLOWED_BODY_FIELDS = new Set(['inputs', 'outputs', 'fee', 'ttl']);

/**
 * The body the payloads call returned must be exactly the operations' transaction: same
 * inputs (as a set), same outputs in order (address bytes and lovelace, no tokens, datums or
 * scripts), fee = inputs − outputs, a TTL, and no other field.
 */
function checkAdaBody(ops: AdaOperations, bodyBytes: Uint8Array, what: string): void {
  const C = csl();
  let body: CslType.TransactionBody;
  try {
    body = C.TransactionBody.from_bytes(bodyBytes);
  } catch {
    throw rosettaError(`${what} is not a Cardano transaction body`);
  }
  try {
    const js = body.to_js_value();
    for (const [k, v] of Object.entries(js)) {
      if (!ALLOWED_BODY_FIELDS.has(k) && v !== null && v !== undefined)
        throw rosettaError(`${what} has a ${k} field, which the operations do not ask for`);
    }
    if (js.ttl === null || js.ttl === undefined) throw rosettaError(`${what} has no TTL`);
    const fee = BigInt(body.fee().to_str());
    if (fee !== ops.fee)
      throw rosettaError(`${what} pays a fee of ${fee} lovelace, but the operations leave ${ops.fee}`);
    const inputs = body.inputs();
    const want = new Set(ops.inputs.map((x) => `${x.txHash}:${x.index}`));
    const got = new Set<string>();
    for (let i = 0; i < inputs.len(); i++) {
      const inp = inputs.get(i);
      got.add(`${inp.transaction_id().to_hex()}:${inp.index()}`);
      inp.free();
    }
    if (inputs.len() !== ops.inputs.length || got.size !== want.size || [...want].some((k) => !got.has(k))) {
      throw rosettaError(`${what} spends other inputs than the operations`);
    }
    const outputs = body.outputs();
    if (outputs.len() !== ops.outputs.length)
      throw rosettaError(`${what} has ${outputs.len()} outputs, the operations ${ops.outputs.length}`);
    for (let i = 0; i < outputs.len(); i++) {
      const o = outputs.get(i);
      const want = ops.outputs[i]!;
      const amount = o.amount();
      const ma = amount.multiasset();
      const ok =
        bytesEqual(o.address().to_bytes(), want.addressBytes) &&
        BigInt(amount.coin().to_str()) === want.amount &&
        (ma === undefined || ma.len() === 0) &&
        !o.has_data_hash() &&
        !o.has_plutus_data() &&
        !o.has_script_ref();
      o.free();
      if (!ok)
        throw rosettaError(
          `${what} output ${i} is not the operations' output ${i} (${want.amount} lovelace to ${want.address})`,
        );
    }
  } finally {
    body.free();
  }
}

/**
 * Checks the `construction/payloads` answer against the operations and the keys; returns
 * what to sign. Nothing is signed unless every check passes.
 */
function checkAdaPayloads(
  ops: AdaOperations,
  answer: Record<string, unknown>,
  byAddress: ReadonlyMap<string, AdaSigner>,
): AdaCheckedUnsigned {
  const unsigned = answer.unsigned_transaction;
  const { envelopeHex: unsignedTransaction, transactionHex } = openRosettaEnvelope(unsigned, 'unsigned_transaction');
  const bodyBytes = Uint8Array.from(Buffer.from(transactionHex, 'hex'));
  checkAdaBody(ops, bodyBytes, 'unsigned transaction');
  const bodyHash = adaBodyHash(bodyBytes);
  const list = answer.payloads;
  if (!Array.isArray(list) || list.length === 0) throw rosettaError('payloads answer has no signing payload');
  const inputAddresses = new Set(ops.inputs.map((x) => x.address));
  const covered = new Set<string>();
  const payloads: AdaCheckedUnsigned['payloads'] = [];
  for (const [i, p] of list.entries()) {
    if (!isPlainObject(p)) throw rosettaError(`payloads[${i}] is not an object`);
    const addr = isPlainObject(p.account_identifier) ? p.account_identifier.address : undefined;
    if (typeof addr !== 'string' || !inputAddresses.has(addr))
      throw rosettaError(`payloads[${i}].account_identifier.address is no input's address (got ${kindOf(addr)})`);
    if (covered.has(addr)) throw rosettaError(`payloads[${i}] names an input's address a second time`);
    if (p.signature_type !== undefined && p.signature_type !== 'ed25519')
      throw rosettaError(`payloads[${i}].signature_type is not ed25519 (got ${kindOf(p.signature_type)})`);
    if (typeof p.hex_bytes !== 'string' || p.hex_bytes.toLowerCase() !== toHex(bodyHash)) {
      throw rosettaError(`payloads[${i}].hex_bytes is not the blake2b-256 hash of the unsigned transaction body`);
    }
    covered.add(addr);
    payloads.push({ payload: p, signer: byAddress.get(addr)! });
  }
  for (const a of inputAddresses)
    if (!covered.has(a)) throw rosettaError(`payloads answer asks no signature for input address ${a}`);
  return { unsignedTransaction, bodyHash, payloads };
}

interface AdaSignature {
  signing_payload: Record<string, unknown>;
  public_key: { hex_bytes: string; curve_type: 'edwards25519' };
  signature_type: 'ed25519';
  hex_bytes: string;
}

/** One signature per payload, in Tatum's shape for `construction/combine`. */
async function signAdaPayloads(checked: AdaCheckedUnsigned): Promise<AdaSignature[]> {
  const out: AdaSignature[] = [];
  for (const { payload, signer } of checked.payloads) {
    const sig = await signer.sign(checked.bodyHash);
    if (!verifyEd25519(sig, checked.bodyHash, signer.publicKey)) {
      throw new HardkmsError('SIGNATURE_INVALID', `the ADA signature of wallet ${signer.signatureId} does not verify`, {
        hint: 'This is a bug in hardkms; report it.',
      });
    }
    out.push({
      signing_payload: payload,
      public_key: { hex_bytes: toHex(signer.publicKey), curve_type: 'edwards25519' },
      signature_type: 'ed25519',
      hex_bytes: toHex(sig),
    });
  }
  return out;
}

/**
 * The `construction/combine` answer must be the body we signed with exactly our signatures
 * as its only witnesses. Returns Tatum's txData (the signed envelope, as Tatum broadcasts it)
 * and the transaction id.
 */
function checkAdaSigned(
  signedEnvelope: unknown,
  checked: Pick<AdaCheckedUnsigned, 'bodyHash'>,
  signatures: readonly AdaSignature[],
): { txData: string; txId: string } {
  const { envelopeHex, transactionHex } = openRosettaEnvelope(signedEnvelope, 'signed_transaction');
  const C = csl();
  let tx: CslType.FixedTransaction;
  try {
    tx = C.FixedTransaction.from_bytes(Uint8Array.from(Buffer.from(transactionHex, 'hex')));
  } catch {
    throw rosettaError('signed_transaction is not a Cardano transaction');
  }
  try {
    if (!bytesEqual(adaBodyHash(tx.raw_body()), checked.bodyHash))
      throw rosettaError('signed_transaction has another body than the one signed');
    if (tx.raw_auxiliary_data() !== undefined) throw rosettaError('signed_transaction carries auxiliary data');
    if (!tx.is_valid()) throw rosettaError('signed_transaction is marked invalid');
    const ws = tx.witness_set();
    const js = ws.to_js_value();
    for (const [k, v] of Object.entries(js))
      if (k !== 'vkeys' && v !== null && v !== undefined) throw rosettaError(`signed_transaction has ${k} witnesses`);
    const vkeys = ws.vkeys();
    const got = new Set<string>();
    for (let i = 0; i < (vkeys?.len() ?? 0); i++) {
      const w = vkeys!.get(i);
      got.add(`${toHex(w.vkey().public_key().as_bytes())}:${w.signature().to_hex()}`);
      w.free();
    }
    const want = new Set(signatures.map((s) => `${s.public_key.hex_bytes}:${s.hex_bytes}`));
    if (got.size !== want.size || [...want].some((k) => !got.has(k)))
      throw rosettaError('signed_transaction does not carry exactly the signatures sent to combine');
    ws.free();
    return { txData: envelopeHex, txId: toHex(checked.bodyHash) };
  } finally {
    tx.free();
  }
}

/** The transaction id (blake2b-256 of the body) of a signed envelope, for the journal and rebroadcast checks. */
export function adaTxHash(signedEnvelope: string): string {
  const { transactionHex } = openRosettaEnvelope(signedEnvelope, 'signed_transaction');
  const tx = csl().FixedTransaction.from_bytes(Uint8Array.from(Buffer.from(transactionHex, 'hex')));
  try {
    return toHex(adaBodyHash(tx.raw_body()));
  } finally {
    tx.free();
  }
}

/**
 * Re-broadcast check: the journaled signed transaction must still be what the (unchanged)
 * operations say. Returns the mismatch, if any. The net is the operations' own (their
 * addresses carry it) when the caller does not give it.
 */
export function adaSignedMismatch(payload: unknown, signedEnvelope: string, testnet?: boolean): string | undefined {
  try {
    let ops: AdaOperations;
    try {
      ops = parseAdaOperations(payload, testnet ?? true);
    } catch (e) {
      if (testnet !== undefined) throw e;
      ops = parseAdaOperations(payload, false);
    }
    const { transactionHex } = openRosettaEnvelope(signedEnvelope, 'signed_transaction');
    const tx = csl().FixedTransaction.from_bytes(Uint8Array.from(Buffer.from(transactionHex, 'hex')));
    try {
      checkAdaBody(ops, tx.raw_body(), 'journaled signed transaction');
    } finally {
      tx.free();
    }
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * The whole flow for one pending transaction, after key resolution: preprocess → metadata →
 * payloads (checked) → sign → combine (checked). The requests carry exactly the fields
 * Tatum's SDK sends (cardano.sdk.tx.ts signPayload).
 */
export async function prepareAda(
  ops: AdaOperations,
  rosetta: AdaRosetta,
  byAddress: ReadonlyMap<string, AdaSigner>,
  testnet: boolean,
): Promise<{ checked: AdaCheckedUnsigned; sign: () => Promise<{ txData: string; txId: string }> }> {
  const network_identifier = adaNetworkIdentifier(testnet);
  const operations = ops.raw;
  const preprocess = await rosetta.post('construction/preprocess', {
    network_identifier,
    operations,
    metadata: { relative_ttl: ADA_RELATIVE_TTL },
  });
  const metadata = await rosetta.post('construction/metadata', { network_identifier, ...preprocess });
  const payloadsAnswer = await rosetta.post('construction/payloads', { network_identifier, operations, ...metadata });
  const checked = checkAdaPayloads(ops, payloadsAnswer, byAddress);
  return {
    checked,
    sign: async () => {
      const signatures = await signAdaPayloads(checked);
      const combined = await rosetta.post('construction/combine', {
        network_identifier,
        unsigned_transaction: checked.unsignedTransaction,
        signatures,
      });
      return checkAdaSigned(combined.signed_transaction, checked, signatures);
    },
  };
}
