/**
 * Algorand (ALGO) pending transactions (Tatum, chains §2.4 in docs/architecture.md): `serializedTransaction`
 * is JSON.stringify of an algosdk 1.16 Transaction (byte arrays as index→byte maps or
 * `{type: 'Buffer', data}`); Tatum's signer rebuilds it from from/to/amount/note/type/
 * flatFee/fee/genesisHash/firstRound/lastRound/genesisID/assetIndex and returns the
 * msgpack `{sig, txn}` as lowercase hex for POST /v3/algorand/broadcast.
 *
 * The fee is read as Tatum reads it, to match its bytes: with `flatFee: false` the `fee`
 * is µALGO **per byte** of the signed transaction (an ASA transfer of 261 bytes with
 * `fee: 1000` pays 0.261 ALGO), at least 1000 µALGO. The result goes to the policy's fee
 * limit like any other fee.
 *
 * Safer than Tatum (which signs with any key, on any network): the sender must be the
 * signing wallet's address; genesisID and genesisHash must be the daemon's network
 * (mainnet-v1.0 / testnet-v1.0); close-to, rekey-to, lease and clawback fields, which
 * Tatum's re-constructor drops silently, are refused instead of signing something other
 * than what the payload says; only `pay` and `axfer` are signed.
 */
import algosdk from 'algosdk';
import {
  kindOf,
  isPlainObject,
  mismatchError,
  parseJsonPayload,
  payloadError,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { signEd25519Checked, type Ed25519Signer } from '../ed25519/signer.js';

const CHAIN = 'ALGO';
/** algosdk 1.16's ALGORAND_MIN_TX_FEE: a per-byte fee never gives less. */
const MIN_FEE = 1000n;
const UINT64_MAX = (1n << 64n) - 1n;

export const ALGO_NETWORKS = {
  mainnet: { genesisID: 'mainnet-v1.0', genesisHash: 'wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=' },
  testnet: { genesisID: 'testnet-v1.0', genesisHash: 'SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=' },
} as const;

/** Fields of algosdk 1.16's JSON that carry nothing to sign when empty, or that Tatum's re-constructor keeps. */
const KNOWN = new Set([
  'name',
  'tag',
  'from',
  'to',
  'amount',
  'note',
  'type',
  'flatFee',
  'fee',
  'genesisHash',
  'firstRound',
  'lastRound',
  'genesisID',
  'appArgs',
  'lease',
  'assetIndex',
  'extraPages',
  'group',
]);
/** Fields that would move more than the payment shows, or hand the account to someone else, when set. */
const DANGEROUS = ['closeRemainderTo', 'reKeyTo', 'assetRevocationTarget', 'freezeAccount', 'assetCloseTo'];

/** An index→byte map {"0": b0, …} (algosdk 1.16's JSON of a Uint8Array) or {type: 'Buffer', data: […]} as bytes. */
function bytes(field: string, v: unknown, length?: number): Uint8Array {
  let out: unknown[];
  if (isPlainObject(v) && v.type === 'Buffer' && Array.isArray(v.data)) out = v.data;
  else if (isPlainObject(v)) {
    const keys = Object.keys(v);
    out = [];
    for (let i = 0; i < keys.length; i++) {
      if (!Object.hasOwn(v, String(i)))
        throw payloadError(CHAIN, `${field} must be an index→byte map ({"0": …, "1": …}) with no gaps`);
      out.push(v[String(i)]);
    }
  } else if (Array.isArray(v)) out = v;
  else
    throw payloadError(CHAIN, `${field} must be bytes (an index→byte map or {type: "Buffer", data}), got ${kindOf(v)}`);
  if (!out.every((b): b is number => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255))
    throw payloadError(CHAIN, `${field} holds something that is not a byte`);
  if (length !== undefined && out.length !== length)
    throw payloadError(CHAIN, `${field} must be ${length} bytes, got ${out.length}`);
  return Uint8Array.from(out);
}

function address(field: string, v: unknown): string {
  if (typeof v === 'string') {
    if (!algosdk.isValidAddress(v)) throw payloadError(CHAIN, `${field} is not an Algorand address`);
    return v;
  }
  if (!isPlainObject(v)) throw payloadError(CHAIN, `${field} must be {publicKey, checksum}, got ${kindOf(v)}`);
  const addr = algosdk.encodeAddress(bytes(`${field}.publicKey`, v.publicKey, 32));
  if (v.checksum !== undefined) {
    const given = Buffer.from(bytes(`${field}.checksum`, v.checksum, 4));
    const want = Buffer.from(algosdk.decodeAddress(addr).checksum());
    if (!given.equals(want)) throw payloadError(CHAIN, `${field}.checksum does not match its public key`);
  }
  return addr;
}

function uint(field: string, v: unknown): bigint {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw payloadError(CHAIN, `${field} must be a non-negative integer, got ${kindOf(v)}`);
  const n = BigInt(v);
  if (n > UINT64_MAX) throw payloadError(CHAIN, `${field} is too large`);
  return n;
}

function emptyOrAbsent(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v))
    return Object.keys(v).length === 0 || (v.type === 'Buffer' && Array.isArray(v.data) && v.data.length === 0);
  return false;
}

interface ParsedAlgo {
  txn: algosdk.Transaction;
  sender: string;
  type: 'pay' | 'axfer';
  receiver: string;
  amount: bigint;
  assetIndex?: bigint;
}

function parse(payload: unknown, testnet: boolean): ParsedAlgo {
  const o = parseJsonPayload(CHAIN, payload);
  for (const k of DANGEROUS) {
    if (!emptyOrAbsent(o[k]))
      throw unsupportedError(
        CHAIN,
        `${k} is set: it would move more than the payment or hand the account over; not signed`,
      );
  }
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k) && !DANGEROUS.includes(k))
      throw unsupportedError(
        CHAIN,
        `field ${JSON.stringify(k.slice(0, 40))} is not one Tatum's ALGO builders set; not signed`,
      );
  }
  for (const k of ['lease', 'appArgs', 'group', 'extraPages']) {
    if (!emptyOrAbsent(o[k]) && !(k === 'extraPages' && o[k] === 0))
      throw unsupportedError(CHAIN, `${k} is set; Tatum's builders leave it empty`);
  }
  if (o.tag !== undefined && Buffer.from(bytes('tag', o.tag)).toString('latin1') !== 'TX')
    throw payloadError(CHAIN, 'tag must be "TX"');
  const type = o.type;
  if (type !== 'pay' && type !== 'axfer')
    throw unsupportedError(
      CHAIN,
      `type is not signed: hardkms signs pay and axfer, as Tatum builds them (got ${kindOf(type)})`,
    );
  const net = testnet ? ALGO_NETWORKS.testnet : ALGO_NETWORKS.mainnet;
  if (o.genesisID !== net.genesisID) {
    throw mismatchError(
      CHAIN,
      `genesisID is not ${net.genesisID} (got ${kindOf(o.genesisID)}): the transaction is for another network than this ${testnet ? 'testnet' : 'mainnet'} daemon`,
    );
  }
  const genesisHash = Buffer.from(bytes('genesisHash', o.genesisHash, 32)).toString('base64');
  if (genesisHash !== net.genesisHash)
    throw mismatchError(
      CHAIN,
      `genesisHash is not the ${net.genesisID} genesis hash: the transaction is for another network`,
    );
  const sender = address('from', o.from);
  const receiver = address('to', o.to);
  const amount = uint('amount', o.amount ?? 0);
  const fee = uint('fee', o.fee);
  if (typeof o.flatFee !== 'boolean' && o.flatFee !== undefined) throw payloadError(CHAIN, 'flatFee must be a boolean');
  const firstValid = uint('firstRound', o.firstRound);
  const lastValid = uint('lastRound', o.lastRound);
  if (lastValid < firstValid) throw payloadError(CHAIN, 'lastRound is before firstRound');
  const note = o.note === undefined ? new Uint8Array() : bytes('note', o.note);
  const assetIndex = type === 'axfer' ? uint('assetIndex', o.assetIndex) : undefined;
  const build = (f: bigint, flatFee: boolean) =>
    new algosdk.Transaction({
      type: type === 'pay' ? algosdk.TransactionType.pay : algosdk.TransactionType.axfer,
      sender,
      note,
      suggestedParams: {
        fee: f,
        flatFee,
        minFee: MIN_FEE,
        firstValid,
        lastValid,
        genesisID: net.genesisID,
        genesisHash: Buffer.from(net.genesisHash, 'base64'),
      },
      ...(type === 'pay'
        ? { paymentParams: { receiver, amount } }
        : { assetTransferParams: { receiver, amount, assetIndex: assetIndex! } }),
    });
  // flatFee false: Tatum's (algosdk 1.16's) per-byte reading, computed by algosdk itself.
  let txn: algosdk.Transaction;
  try {
    txn = build(fee, o.flatFee === true);
  } catch (e) {
    throw payloadError(
      CHAIN,
      `the transaction does not build: ${e instanceof Error ? e.message.slice(0, 120) : 'unknown error'}`,
    );
  }
  return { txn, sender, type, receiver, amount, ...(assetIndex === undefined ? {} : { assetIndex }) };
}

/** What the transaction moves, for the policy: µALGO to the receiver, or an ASA (token = asset id) transfer; the fee as it will be signed. */
export function decodeAlgo(payload: unknown, testnet: boolean): DecodedTx {
  const p = parse(payload, testnet);
  const decoded: DecodedTx = { chain: CHAIN, outputs: [], fee: p.txn.fee };
  if (p.type === 'pay') decoded.outputs.push({ address: p.receiver, amount: p.amount });
  else if (p.amount > 0n || p.receiver !== p.sender)
    decoded.token = { contract: String(p.assetIndex), standard: 'ASA', to: p.receiver, amount: p.amount };
  // An axfer of 0 to oneself is an opt-in: it moves nothing.
  return decoded;
}

/** Signs with the first (only) wallet, which must be the sender. Returns lowercase hex of msgpack {sig, txn}. */
export async function signAlgo(payload: unknown, signers: readonly Ed25519Signer[], testnet: boolean): Promise<string> {
  const p = parse(payload, testnet);
  const signer = signers[0];
  if (signer === undefined) throw mismatchError(CHAIN, 'no key to sign with');
  const mine = algosdk.encodeAddress(Uint8Array.from(signer.publicKey));
  if (mine !== p.sender) {
    throw mismatchError(
      CHAIN,
      `the sender ${p.sender} is not the signing wallet's address ${mine}; refusing to sign (Tatum KMS would sign with any key)`,
    );
  }
  const sig = await signEd25519Checked(signer, p.txn.bytesToSign());
  return Buffer.from(p.txn.attachSignature(mine, sig)).toString('hex');
}

/** Why a journaled signed transaction is not the payload's, or undefined (re-broadcast check). */
export function algoSignedMismatch(payload: unknown, signedHex: string): string | undefined {
  // The journal row does not say the net; the payload's genesisID does, and parse checks its hash.
  const p = parse(payload, parseJsonPayload(CHAIN, payload).genesisID === ALGO_NETWORKS.testnet.genesisID);
  const stx = algosdk.decodeSignedTransaction(Uint8Array.from(Buffer.from(signedHex, 'hex')));
  return Buffer.from(stx.txn.toByte()).equals(Buffer.from(p.txn.toByte())) ? undefined : 'the transaction differs';
}
