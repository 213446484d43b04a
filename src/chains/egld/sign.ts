/**
 * MultiversX (EGLD) pending transactions (spec §3.7, Tatum v1 `signEgldKMSTransaction`):
 * `serializedTransaction` is `{"from", "to", "value" (EGLD, decimal), "data"?, "gasPrice",
 * "gasLimit"}`. As Tatum, the signer takes the nonce, gas price (the network's minimum),
 * chain id and transaction version from Tatum's EGLD node and the gas limit from its cost
 * estimate (the payload's gasPrice/gasLimit are not used), values × 10^18, data as bytes,
 * signs ed25519 over the transaction's canonical JSON (@multiversx/sdk-core's
 * TransactionComputer) and returns the signed transaction's JSON for /v3/egld/broadcast.
 *
 * Safer than Tatum: a `from` that is not the signing wallet's address is refused (Tatum
 * takes `from` as the sender whatever the key), a chain id other than the daemon's network
 * (`1` mainnet; `D` devnet or `T` testnet) is refused, and so is a negative value (Tatum
 * signs it as 0).
 */
import { HardkmsError } from '../../errors.js';
import { kindOf, mismatchError, parseJsonPayload, payloadError, unsupportedError, type DecodedTx } from '../decoded.js';
import { signEd25519Checked, type Ed25519Signer } from '../ed25519/signer.js';
import { check, looseJsonObject, v } from '../../validate.js';
import { egldAddress, egldPublicKeyOf, mvx } from './keys.js';

const CHAIN = 'EGLD';
const FIELDS = new Set(['from', 'to', 'value', 'data', 'gasPrice', 'gasLimit']);
/** The shape of a bech32 erd1 address (shown in a refusal only when the text has it: it then carries no free text). */
const EGLD_ADDRESS = /^erd1[02-9ac-hj-np-z]{58}$/;
const VALUE_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,18}))?$/;
/** Built-in functions the protocol runs on a user account: a call, not a note. */
const FUNCTION_CALL_RE = /^[A-Za-z_][A-Za-z0-9_]*(@[0-9a-fA-F]*)+$/;

interface EgldPayload {
  from?: string;
  to: string;
  /** Atto-EGLD (10^-18). */
  value: bigint;
  data?: Buffer;
}

/** What the daemon fills from Tatum's EGLD node, as Tatum's SDK does. */
export interface EgldFill {
  nonce: bigint;
  gasPrice: bigint;
  gasLimit: bigint;
  chainID: string;
  version: number;
}

function parseEgldPayload(payload: unknown): EgldPayload {
  const o = parseJsonPayload(CHAIN, payload);
  for (const k of Object.keys(o))
    if (!FIELDS.has(k))
      throw unsupportedError(
        CHAIN,
        `unknown field "${k.slice(0, 32)}" (Tatum sends from, to, value, data, gasPrice, gasLimit)`,
      );
  if (typeof o.to !== 'string') throw payloadError(CHAIN, 'to must be an erd1… address');
  try {
    egldPublicKeyOf(o.to, 'to');
  } catch {
    // egldPublicKeyOf's message quotes the text (right for an address an operator typed, not for a payload's).
    throw payloadError(CHAIN, `to is not a bech32 erd1… address (got ${kindOf(o.to)})`);
  }
  const text = typeof o.value === 'number' ? String(o.value) : o.value;
  if (typeof text !== 'string') throw payloadError(CHAIN, 'value must be a decimal amount of EGLD');
  if (text.startsWith('-')) throw unsupportedError(CHAIN, 'value is negative (Tatum KMS would sign it as 0)');
  const m = VALUE_RE.exec(text);
  if (!m) throw payloadError(CHAIN, `value is not a decimal amount with at most 18 decimals (got ${kindOf(text)})`);
  const out: EgldPayload = { to: o.to, value: BigInt(m[1]!) * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0')) };
  if (o.from !== undefined && o.from !== null && o.from !== 0) {
    if (typeof o.from !== 'string') throw payloadError(CHAIN, 'from must be an erd1… address');
    out.from = o.from;
  }
  if (o.data !== undefined && o.data !== null && o.data !== '') {
    if (typeof o.data !== 'string') throw payloadError(CHAIN, 'data must be a string');
    out.data = Buffer.from(o.data, 'utf8');
  }
  return out;
}

/** The chain ids the daemon signs for: `1` on mainnet, `D` (devnet) or `T` (testnet) with --testnet. */
export function checkEgldChainId(chainID: string, testnet: boolean): void {
  const ok = testnet ? chainID === 'D' || chainID === 'T' : chainID === '1';
  if (!ok) {
    throw mismatchError(
      CHAIN,
      `the node's chain id ${JSON.stringify(chainID.slice(0, 8))} is not ${testnet ? "a testnet's (D or T)" : "mainnet's (1)"}; not signed`,
      'HARDKMS_RPC_EGLD (or Tatum\u2019s EGLD node) serves another network than the daemon signs for.',
    );
  }
}

function isSmartContract(address: string): boolean {
  return egldPublicKeyOf(address)
    .subarray(0, 8)
    .every((b) => b === 0);
}

/** What the transaction moves, for the policy: EGLD, one ESDT transfer, the most it can pay in fees, and any contract call. */
export function decodeEgld(payload: unknown, fill: Pick<EgldFill, 'gasPrice' | 'gasLimit'>): DecodedTx {
  const p = parseEgldPayload(payload);
  const decoded: DecodedTx = {
    chain: CHAIN,
    outputs: [{ address: p.to, amount: p.value }],
    fee: fill.gasPrice * fill.gasLimit,
  };
  const text = p.data?.toString('utf8');
  if (text !== undefined) {
    const esdt = /^ESDTTransfer@([0-9a-fA-F]+)@([0-9a-fA-F]+)$/.exec(text);
    if (esdt !== null && !isSmartContract(p.to)) {
      decoded.token = {
        contract: Buffer.from(esdt[1]!, 'hex').toString('utf8'),
        standard: 'ESDT',
        to: p.to,
        amount: BigInt(`0x${esdt[2]!}`),
      };
    } else if (isSmartContract(p.to) || FUNCTION_CALL_RE.test(text)) {
      const hex = p.data!.toString('hex');
      decoded.call = {
        kind: 'call',
        to: p.to,
        dataLength: p.data!.length,
        data: hex,
        ...(p.data!.length >= 4 ? { selector: `0x${hex.slice(0, 8)}` } : {}),
      };
    }
    // Anything else is a note on a transfer between accounts: it moves nothing.
  } else if (isSmartContract(p.to)) {
    decoded.call = { kind: 'call', to: p.to, dataLength: 0, data: '' };
  }
  return decoded;
}

function transaction(
  p: EgldPayload,
  sender: string,
  fill: EgldFill,
): InstanceType<ReturnType<typeof mvx>['Transaction']> {
  const sdk = mvx();
  return new sdk.Transaction({
    nonce: fill.nonce,
    value: p.value,
    receiver: sdk.Address.newFromBech32(p.to),
    sender: sdk.Address.newFromBech32(sender),
    gasPrice: fill.gasPrice,
    gasLimit: fill.gasLimit,
    ...(p.data === undefined ? {} : { data: Uint8Array.from(p.data) }),
    chainID: fill.chainID,
    version: fill.version,
  });
}

/** The sender Tatum's builder would use, checked: the payload's `from` must be the signing wallet's address. */
export function egldSender(payload: unknown, signer: Pick<Ed25519Signer, 'publicKey'> | undefined): string {
  if (signer === undefined) throw mismatchError(CHAIN, 'no key to sign with');
  const p = parseEgldPayload(payload);
  const own = egldAddress(signer.publicKey);
  if (p.from !== undefined && p.from !== own) {
    throw mismatchError(
      CHAIN,
      `from ${EGLD_ADDRESS.test(p.from) ? p.from : `(${kindOf(p.from)}, not an erd1… address)`} is not the signing wallet's address ${own}; refusing to sign (Tatum KMS would sign for from with any key)`,
    );
  }
  return own;
}

/** The gas-cost request body Tatum's SDK posts (the unsigned transaction with gasLimit 0, data base64). */
export function egldCostRequest(
  payload: unknown,
  sender: string,
  fill: Omit<EgldFill, 'gasLimit'>,
): Record<string, unknown> {
  const p = parseEgldPayload(payload);
  return {
    nonce: Number(fill.nonce),
    value: p.value.toString(),
    receiver: p.to,
    sender,
    gasPrice: Number(fill.gasPrice),
    gasLimit: 0,
    ...(p.data === undefined ? {} : { data: p.data.toString('base64') }),
    chainID: fill.chainID,
    version: fill.version,
  };
}

/** Signs with the wallet's key; the signed transaction as Tatum sends it (JSON of the sendable form). */
export async function signEgld(
  payload: unknown,
  signer: Ed25519Signer | undefined,
  fill: EgldFill,
  testnet: boolean,
): Promise<string> {
  checkEgldChainId(fill.chainID, testnet);
  const sender = egldSender(payload, signer);
  const tx = transaction(parseEgldPayload(payload), sender, fill);
  const bytes = new (mvx().TransactionComputer)().computeBytesForSigning(tx);
  tx.signature = await signEd25519Checked(signer!, bytes);
  return JSON.stringify(tx.toPlainObject());
}

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
/**
 * A signed transaction as signEgld journals it (the SDK's toPlainObject), read back for its
 * hash and by the re-broadcast check: the fields newFromPlainObject reads, others kept.
 */
const signedEgld = looseJsonObject(
  {
    nonce: count,
    value: v.pipe(v.string(), v.regex(/^(0|[1-9][0-9]*)$/)),
    receiver: v.string(),
    sender: v.string(),
    gasPrice: count,
    gasLimit: count,
    data: v.optional(v.string()),
    chainID: v.string(),
    version: count,
    options: v.optional(count),
    signature: v.pipe(v.string(), v.regex(/^[0-9a-f]{128}$/, 'expected 64 bytes of lowercase hex (the signature)')),
  },
  'a signed EGLD transaction (JSON object)',
);

type SignedEgld = v.InferOutput<typeof signedEgld>;

/** The journaled transaction, or why it is not one signEgld wrote (the field, never its value). */
function readSignedEgld(signedJson: string): SignedEgld | string {
  let json: unknown;
  try {
    json = JSON.parse(signedJson);
  } catch {
    return 'it is not valid JSON';
  }
  const r = check(signedEgld, json);
  return r.ok ? r.value : `it is not one hardkms wrote (${r.text})`;
}

/** The transaction hash (hex), as the network computes it. */
export function egldTxHash(signedJson: string): string {
  const s = readSignedEgld(signedJson);
  if (typeof s === 'string') throw new HardkmsError('TX_PAYLOAD_INVALID', `The signed EGLD transaction: ${s}.`);
  const sdk = mvx();
  return new sdk.TransactionComputer().computeTransactionHash(sdk.Transaction.newFromPlainObject(s));
}

/** Why a journaled signed transaction does not carry the payload's transfer, or undefined (re-broadcast check). */
export function egldSignedMismatch(payload: unknown, signedJson: string): string | undefined {
  const p = parseEgldPayload(payload);
  const s = readSignedEgld(signedJson);
  if (typeof s === 'string') return s;
  if (s.receiver !== p.to) return 'the receiver differs';
  if (s.value !== p.value.toString()) return 'the value differs';
  if ((s.data ?? '') !== (p.data?.toString('base64') ?? '')) return 'the data differs';
  if (p.from !== undefined && s.sender !== p.from) return 'the sender differs';
  return undefined;
}

export function egldConfigError(what: string): HardkmsError {
  return new HardkmsError('DAEMON_NODE_FAILED', `The EGLD node ${what}.`, {
    hint: "Check HARDKMS_RPC_EGLD (a MultiversX gateway of the daemon's network) or Tatum's EGLD node.",
  });
}
