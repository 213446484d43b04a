/**
 * XRP Ledger pending transactions (Tatum, chains §2.1 in docs/architecture.md): `serializedTransaction` is
 * the JSON of an autofilled xrpl transaction (a Payment, or a TrustSet / AccountSet from
 * Tatum's other builders); the signer adds SigningPubKey and TxnSignature and returns the
 * canonical binary as uppercase hex (`tx_blob`) for POST /v3/xrp/broadcast.
 *
 * Signing hash: SHA-512Half(0x53545800 ‖ canonical fields without signatures). ed25519
 * keys sign the whole prefixed blob (CKM_EDDSA in the token); secp256k1 keys sign its
 * SHA-512Half (ECDSA in the token, DER, low-S).
 *
 * Safer than Tatum (which signs anything with any seed): the Account must be the signing
 * wallet's address; a transaction already carrying a signature or signers is refused;
 * Fee, Sequence and LastLedgerSequence must be present (Tatum's autofill always sets them,
 * a transaction without LastLedgerSequence never expires); partial payments, paths,
 * SendMax/DeliverMin, NetworkID and fields Tatum's builders never set are refused, so the
 * policy sees everything the transaction can move.
 */
import { sha512 } from '@noble/hashes/sha2';
import { decode, encode, encodeForSigning } from 'ripple-binary-codec';
import { isValidClassicAddress } from 'ripple-address-codec';
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
import { signDigestChecked, type DigestSigner } from '../digest-signer.js';
import { xrpAddress, xrpSigningPubKey } from './keys.js';

const CHAIN = 'XRP';

/** The key of the wallet that signs: ed25519 (sEd… seeds) or secp256k1 (s… seeds), both in the token. */
export type XrpKey = { curve: 'ed25519'; signer: Ed25519Signer } | { curve: 'secp256k1'; signer: DigestSigner };

const COMMON_FIELDS = [
  'TransactionType',
  'Account',
  'Fee',
  'Sequence',
  'LastLedgerSequence',
  'Flags',
  'SourceTag',
  'Memos',
];
const TYPE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Payment: ['Amount', 'Destination', 'DestinationTag'],
  TrustSet: ['LimitAmount'],
  AccountSet: ['SetFlag', 'ClearFlag', 'Domain', 'TransferRate', 'TickSize'],
};
const SIGNATURE_FIELDS = ['TxnSignature', 'SigningPubKey', 'Signers'];
const UINT32_MAX = 0xffff_ffff;
/** tfFullyCanonicalSig: harmless (every signature hardkms makes is canonical). */
const TF_FULLY_CANONICAL = 0x8000_0000;
/** Payment flags that let it deliver or spend other than Amount (partial payment, no direct ripple, limit quality). */
const TF_PARTIAL_PAYMENT = 0x0002_0000;
const DROPS_MAX = 100_000_000_000_000_000n; // 10^17: the total XRP supply in drops

interface ParsedXrp {
  tx: Record<string, unknown>;
  type: string;
  account: string;
  fee: bigint;
  /** A Payment's Destination, checked. */
  destination?: string;
}

function uint32(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > UINT32_MAX) {
    throw payloadError(CHAIN, `${field} must be an integer between 0 and ${UINT32_MAX}, got ${kindOf(v)}`);
  }
  return v;
}

function drops(field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) {
    throw payloadError(
      CHAIN,
      `${field} must be an integer string of drops (1 XRP = 1,000,000 drops), got ${kindOf(v)}`,
    );
  }
  const n = BigInt(v);
  if (n > DROPS_MAX) throw payloadError(CHAIN, `${field} is more drops than exist`);
  return n;
}

function address(field: string, v: unknown): string {
  if (typeof v !== 'string' || !isValidClassicAddress(v))
    throw payloadError(CHAIN, `${field} must be a classic r… address, got ${kindOf(v)}`);
  return v;
}

/**
 * An issued-currency value (a decimal string, optionally with an exponent) in units of
 * 10^-15 of the token, the most precision an XRPL amount carries (15 significant digits).
 */
function issuedValue(field: string, v: unknown): bigint {
  const m = typeof v === 'string' ? /^([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]{1,3}))?$/.exec(v) : null;
  if (m === null) throw payloadError(CHAIN, `${field} must be a non-negative decimal string, got ${kindOf(v)}`);
  const frac = m[2] ?? '';
  const exp = Number(m[3] ?? '0') + 15 - frac.length;
  const digits = BigInt(`${m[1]}${frac}`);
  if (exp >= 0) {
    if (exp > 96) throw payloadError(CHAIN, `${field} is out of range`);
    return digits * 10n ** BigInt(exp);
  }
  const div = 10n ** BigInt(-exp);
  if (digits % div !== 0n) throw payloadError(CHAIN, `${field} has more than 15 decimal places`);
  return digits / div;
}

interface Issued {
  currency: string;
  issuer: string;
  value: bigint;
}

function issued(field: string, v: unknown): Issued {
  if (!isPlainObject(v)) throw payloadError(CHAIN, `${field} must be drops (a string) or {currency, value, issuer}`);
  for (const k of Object.keys(v))
    if (!['currency', 'value', 'issuer'].includes(k)) throw payloadError(CHAIN, `${field}.${k} is not an amount field`);
  const currency = v.currency;
  if (
    typeof currency !== 'string' ||
    !(/^[A-Za-z0-9?!@#$%^&*<>(){}[\]|]{3}$/.test(currency) || /^[0-9A-F]{40}$/.test(currency)) ||
    currency === 'XRP'
  ) {
    throw payloadError(
      CHAIN,
      `${field}.currency must be a 3-character code (not XRP) or 40 hex digits, got ${kindOf(currency)}`,
    );
  }
  return { currency, issuer: address(`${field}.issuer`, v.issuer), value: issuedValue(`${field}.value`, v.value) };
}

function parse(payload: unknown): ParsedXrp {
  const tx = parseJsonPayload(CHAIN, payload);
  for (const f of SIGNATURE_FIELDS) {
    if (Object.hasOwn(tx, f)) {
      throw unsupportedError(
        CHAIN,
        `the transaction already has ${f}; hardkms signs only unsigned transactions (Tatum KMS would sign over it)`,
      );
    }
  }
  const type = tx.TransactionType;
  if (typeof type !== 'string' || !Object.hasOwn(TYPE_FIELDS, type)) {
    throw unsupportedError(
      CHAIN,
      `TransactionType is not signed: hardkms signs Payment, TrustSet and AccountSet, as Tatum builds them (got ${kindOf(type)})`,
    );
  }
  const allowed = new Set([...COMMON_FIELDS, ...TYPE_FIELDS[type]!]);
  for (const k of Object.keys(tx)) {
    if (!allowed.has(k)) {
      throw unsupportedError(
        CHAIN,
        `field ${JSON.stringify(k.slice(0, 40))} is not signed in a ${type} (Tatum's builder never sets it; it could change what the transaction does)`,
      );
    }
  }
  const account = address('Account', tx.Account);
  for (const f of ['Fee', 'Sequence', 'LastLedgerSequence']) {
    if (!Object.hasOwn(tx, f))
      throw payloadError(
        CHAIN,
        `${f} is missing; Tatum's builder autofills it, and hardkms does not sign an incomplete transaction`,
      );
  }
  const fee = drops('Fee', tx.Fee);
  uint32('Sequence', tx.Sequence);
  uint32('LastLedgerSequence', tx.LastLedgerSequence);
  for (const f of ['SourceTag', 'DestinationTag']) if (Object.hasOwn(tx, f)) uint32(f, tx[f]);
  const flags = Object.hasOwn(tx, 'Flags') ? uint32('Flags', tx.Flags) : 0;
  let destination: string | undefined;
  if (type === 'Payment') {
    destination = address('Destination', tx.Destination);
    if ((flags & ~TF_FULLY_CANONICAL) !== 0) {
      throw unsupportedError(
        CHAIN,
        `Payment Flags ${flags} are not signed${(flags & TF_PARTIAL_PAYMENT) !== 0 ? ' (a partial payment may deliver less than Amount)' : ''}; Tatum's builder sets 0`,
      );
    }
    if (typeof tx.Amount === 'string') drops('Amount', tx.Amount);
    else issued('Amount', tx.Amount);
  } else if (type === 'TrustSet') {
    issued('LimitAmount', tx.LimitAmount);
  }
  if (Object.hasOwn(tx, 'Memos') && !Array.isArray(tx.Memos)) throw payloadError(CHAIN, 'Memos must be an array');
  // The codec is the chain's own: it must accept what we checked, or nothing is signed.
  try {
    encodeForSigning(tx);
  } catch (e) {
    throw payloadError(
      CHAIN,
      `the transaction does not encode: ${e instanceof Error ? e.message.slice(0, 120) : 'unknown error'}`,
    );
  }
  return { tx, type, account, fee, ...(destination === undefined ? {} : { destination }) };
}

/** What the transaction moves, for the policy: drops, or an issued currency as token CURRENCY:ISSUER in 10^-15 units. */
export function decodeXrp(payload: unknown): DecodedTx {
  const { tx, type, fee, destination: to } = parse(payload);
  const decoded: DecodedTx = { chain: CHAIN, outputs: [], fee };
  if (type === 'Payment' && to !== undefined) {
    if (typeof tx.Amount === 'string') decoded.outputs.push({ address: to, amount: BigInt(tx.Amount) });
    else {
      const a = issued('Amount', tx.Amount);
      decoded.token = { contract: `${a.currency}:${a.issuer}`, standard: 'XRP_IOU', to, amount: a.value };
    }
  }
  // TrustSet and AccountSet move nothing: they change what the account accepts or how it is configured.
  return decoded;
}

/** SHA-512Half, the XRPL signing digest of a secp256k1 key. */
function sha512Half(bytes: Uint8Array): Uint8Array {
  return sha512(bytes).slice(0, 32);
}

/** DER of (r, s), each as a minimal positive INTEGER. */
function der(r: Uint8Array, s: Uint8Array): Buffer {
  const int = (b: Uint8Array): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    return v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
  };
  const R = int(r);
  const S = int(s);
  return Buffer.concat([
    Buffer.from([0x30, 4 + R.length + S.length, 0x02, R.length]),
    R,
    Buffer.from([0x02, S.length]),
    S,
  ]);
}

/** Signs with the first (only) wallet's key, which must own Account. Returns tx_blob (uppercase hex). */
export async function signXrp(payload: unknown, key: XrpKey | undefined): Promise<string> {
  const { tx, account } = parse(payload);
  if (key === undefined) throw mismatchError(CHAIN, 'no key to sign with');
  const mine = xrpAddress(key.signer.publicKey);
  if (mine !== account) {
    throw mismatchError(
      CHAIN,
      `Account ${account} is not the signing wallet's address ${mine}; refusing to sign (Tatum KMS would sign with any seed)`,
    );
  }
  const unsigned = { ...tx, SigningPubKey: xrpSigningPubKey(key.signer.publicKey) };
  const message = Buffer.from(encodeForSigning(unsigned), 'hex');
  let signature: Buffer;
  if (key.curve === 'ed25519') {
    signature = Buffer.from(await signEd25519Checked(key.signer, message));
  } else {
    const sig = await signDigestChecked(key.signer, sha512Half(message));
    signature = der(sig.r, sig.s);
  }
  const blob = encode({ ...unsigned, TxnSignature: signature.toString('hex').toUpperCase() }).toUpperCase();
  // What leaves must decode to what was checked (the codec's own reading, not ours).
  if (encodeForSigning(decode(blob)).toUpperCase() !== message.toString('hex').toUpperCase()) {
    throw mismatchError(CHAIN, 'the signed blob does not decode to the checked transaction');
  }
  return blob;
}

/** The XRPL transaction id of a tx_blob: SHA-512Half(0x54584E00 ‖ blob), uppercase hex. */
export function xrpTxHash(blob: string): string {
  return Buffer.from(sha512Half(Buffer.concat([Buffer.from('54584E00', 'hex'), Buffer.from(blob, 'hex')])))
    .toString('hex')
    .toUpperCase();
}

/** Why a journaled tx_blob is not a signed form of the payload, or undefined (re-broadcast check). */
export function xrpBlobMismatch(payload: unknown, blob: string): string | undefined {
  const { tx } = parse(payload);
  const back = decode(blob);
  if (typeof back.SigningPubKey !== 'string') return 'the blob has no SigningPubKey';
  const expected = encodeForSigning({ ...tx, SigningPubKey: back.SigningPubKey });
  return encodeForSigning(back) === expected ? undefined : 'the signed fields differ';
}
