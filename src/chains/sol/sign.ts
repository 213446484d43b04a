/**
 * Solana pending transactions (Tatum, chains §2.3): `serializedTransaction` is
 * `{"txData": <hex of a legacy Message>, "mintPK"?: <hex of a 64-byte secret>}` whose
 * blockhash is a placeholder. hardkms replaces the blockhash by a fresh one, signs the
 * message as given with every required signer (ed25519: the token for stored keys, the
 * host for mnemonic children, derived and wiped at signing time), and returns the wire
 * transaction, base64, which the daemon submits through Tatum's SOL RPC.
 *
 * Safer than Tatum, whose web3.js re-compiles the message from its instructions (dropping
 * unreferenced accounts, re-ordering keys) and signs whatever results: the message is
 * signed byte for byte as decoded for the policy, only the blockhash changes; a required
 * signer that is not one of the transaction's wallets (a foreign fee payer), a wallet that
 * is not a required signer, a versioned (v0) message and more than one instruction the
 * decoder does not know are refused with the reason.
 */
import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519';
import type * as web3Type from '@solana/web3.js';
import { base58Decode, base58Encode } from '../keys.js';
import {
  bytesEqual,
  hexField,
  mismatchError,
  parseJsonPayload,
  payloadError,
  unsupportedError,
  type DecodedTx,
} from '../decoded.js';
import { signEd25519Checked, type Ed25519Signer } from '../ed25519/signer.js';
import { verifyEd25519 } from '../../ed25519-verify.js';

const CHAIN = 'SOL';
const require = createRequire(import.meta.url);
let web3Module: typeof web3Type | undefined;
// Loaded on first use: several hundred ms of module loading that only SOL needs.
const web3 = (): typeof web3Type => (web3Module ??= require('@solana/web3.js') as typeof web3Type);

const SYSTEM_PROGRAM = '11111111111111111111111111111111';
export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
const MEMO_PROGRAMS = new Set([
  'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr',
  'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo',
]);
/** Lamports per signature (Solana's base fee). */
const LAMPORTS_PER_SIGNATURE = 5000n;
/** Compute units the runtime grants each instruction when no SetComputeUnitLimit says otherwise. */
const DEFAULT_UNITS_PER_INSTRUCTION = 200_000n;
const MAX_UNITS = 1_400_000n;

interface SolPayload {
  /** The message bytes as Tatum sent them. */
  bytes: Uint8Array;
  message: web3Type.Message;
  /** Account keys, base58, in message order. */
  keys: string[];
  numRequiredSignatures: number;
  /** The mint keypair's seed Tatum's mint/deploy builders send along (`mintPK`); the caller zeroes it. */
  mintSeed?: Uint8Array;
}

/** What an account is, as the node says: SPL token accounts only. */
export interface SolTokenAccount {
  mint: string;
  owner: string;
}

function shortvecLength(bytes: Uint8Array, offset: number): { value: number; size: number } {
  let value = 0;
  let size = 0;
  for (;;) {
    const b = bytes[offset + size];
    if (b === undefined || size > 2) throw payloadError(CHAIN, 'txData ends inside a length');
    value |= (b & 0x7f) << (7 * size);
    size++;
    if ((b & 0x80) === 0) return { value, size };
  }
}

function shortvec(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if (v === 0) {
      out.push(b);
      return Uint8Array.from(out);
    }
    out.push(b | 0x80);
  }
}

/** Offset of the 32-byte recent blockhash in a legacy message. */
function blockhashOffset(bytes: Uint8Array): number {
  const n = shortvecLength(bytes, 3);
  return 3 + n.size + 32 * n.value;
}

export function parseSolPayload(payload: unknown): SolPayload {
  const o = parseJsonPayload(CHAIN, payload);
  for (const k of Object.keys(o)) {
    if (k !== 'txData' && k !== 'mintPK')
      throw unsupportedError(CHAIN, `unknown field "${k.slice(0, 32)}" (Tatum sends txData and mintPK only)`);
  }
  const bytes = hexField(CHAIN, 'txData', o.txData);
  if (bytes.length < 3 + 1 + 32 + 32 + 1) throw payloadError(CHAIN, 'txData is too short for a Solana message');
  if ((bytes[0]! & 0x80) !== 0) {
    throw unsupportedError(
      CHAIN,
      `txData is a versioned (v${bytes[0]! & 0x7f}) message; hardkms signs legacy messages, as Tatum's builders make them`,
    );
  }
  let message: web3Type.Message;
  try {
    message = web3().Message.from(Buffer.from(bytes));
  } catch {
    throw payloadError(CHAIN, 'txData is not a Solana legacy message');
  }
  // What is decoded must be what is signed: the codec must give back exactly these bytes.
  if (!bytesEqual(Uint8Array.from(message.serialize()), bytes))
    throw payloadError(CHAIN, 'txData has trailing or non-canonical bytes');
  const keys = message.accountKeys.map((k) => k.toBase58());
  if (new Set(keys).size !== keys.length) throw payloadError(CHAIN, 'txData lists an account key twice');
  const out: SolPayload = { bytes, message, keys, numRequiredSignatures: message.header.numRequiredSignatures };
  if (out.numRequiredSignatures < 1)
    throw payloadError(CHAIN, 'the message requires no signature (it has no fee payer)');
  if (o.mintPK !== undefined && o.mintPK !== null) {
    const sk = hexField(CHAIN, 'mintPK', o.mintPK, { length: 64 });
    const seed = Uint8Array.from(sk.subarray(0, 32));
    const consistent = Buffer.from(ed25519.getPublicKey(seed)).equals(Buffer.from(sk.subarray(32)));
    sk.fill(0);
    if (!consistent) {
      seed.fill(0);
      throw payloadError(CHAIN, 'mintPK is inconsistent: its second half is not the public key of its first half');
    }
    out.mintSeed = seed;
  }
  return out;
}

function u64(data: Uint8Array, at: number, what: string): bigint {
  if (data.length < at + 8) throw payloadError(CHAIN, `${what}: instruction data too short`);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).readBigUInt64LE(at);
}

/** The associated token account of (owner, mint), Tokenkeg program. */
export function associatedTokenAddress(owner: string, mint: string): string {
  const w = web3();
  const [pda] = w.PublicKey.findProgramAddressSync(
    [new w.PublicKey(owner).toBuffer(), new w.PublicKey(TOKEN_PROGRAM).toBuffer(), new w.PublicKey(mint).toBuffer()],
    new w.PublicKey(ASSOCIATED_TOKEN_PROGRAM),
  );
  return pda.toBase58();
}

interface Ix {
  program: string;
  accounts: string[];
  data: Uint8Array;
}

function instructions(p: SolPayload): Ix[] {
  return p.message.instructions.map((ix, i) => {
    const program = p.keys[ix.programIdIndex];
    if (program === undefined)
      throw payloadError(CHAIN, `instruction ${i} names program index ${ix.programIdIndex}, beyond the account keys`);
    const accounts = ix.accounts.map((a) => {
      const k = p.keys[a];
      if (k === undefined)
        throw payloadError(CHAIN, `instruction ${i} names account index ${a}, beyond the account keys`);
      return k;
    });
    return { program, accounts, data: ix.data === '' ? new Uint8Array(0) : base58Decode(ix.data) };
  });
}

/** Token-account addresses whose mint and owner the decoder needs from the node (plain SPL Transfer). */
export function solAccountsToLookUp(p: SolPayload): string[] {
  const out = new Set<string>();
  for (const ix of instructions(p)) {
    if (ix.program === TOKEN_PROGRAM && ix.data[0] === 3 && ix.accounts.length >= 3) {
      out.add(ix.accounts[0]!);
      out.add(ix.accounts[1]!);
    }
  }
  return [...out];
}

/**
 * What the transaction moves, for the policy: lamport transfers (and lamports funding new
 * accounts), one SPL token transfer (mint and recipient wallet proven by the associated
 * token account derivation, not taken on the node's word), the fee (5000 lamports per
 * signature plus any priority fee), and at most one instruction of another program as a
 * contract call (refused unless the policy allows it).
 */
export function decodeSol(
  p: SolPayload,
  accounts: ReadonlyMap<string, SolTokenAccount | undefined> = new Map(),
): DecodedTx {
  const decoded: DecodedTx = { chain: CHAIN, outputs: [] };
  const ixs = instructions(p);
  let unitLimit: bigint | undefined;
  let unitPrice = 0n;
  let budgeted = 0;
  const created = new Map<string, SolTokenAccount>();
  for (const ix of ixs) {
    if (
      ix.program === ASSOCIATED_TOKEN_PROGRAM &&
      (ix.data.length === 0 || ((ix.data[0] === 0 || ix.data[0] === 1) && ix.data.length === 1))
    ) {
      const [, ata, owner, mint] = ix.accounts;
      if (ata === undefined || owner === undefined || mint === undefined)
        throw payloadError(CHAIN, 'an associated-token-account creation lacks accounts');
      if (associatedTokenAddress(owner, mint) !== ata)
        throw mismatchError(
          CHAIN,
          `the token account ${ata} created is not the associated token account of ${owner} for ${mint}`,
        );
      created.set(ata, { mint, owner });
    }
  }
  const lookup = (a: string): SolTokenAccount | undefined => created.get(a) ?? accounts.get(a);
  for (const [i, ix] of ixs.entries()) {
    const what = `instruction ${i}`;
    if (ix.program === SYSTEM_PROGRAM && ix.data.length >= 4) {
      const type = Buffer.from(ix.data).readUInt32LE(0);
      if (type === 2 && ix.data.length === 12 && ix.accounts.length === 2) {
        decoded.outputs.push({ address: ix.accounts[1]!, amount: u64(ix.data, 4, what) });
        continue;
      }
      if (type === 0 && ix.data.length === 52 && ix.accounts.length === 2) {
        // CreateAccount funds the new account with lamports (rent), like a transfer.
        decoded.outputs.push({ address: ix.accounts[1]!, amount: u64(ix.data, 4, what) });
        continue;
      }
    }
    if (ix.program === TOKEN_PROGRAM && (ix.data[0] === 3 || ix.data[0] === 12)) {
      if (decoded.token !== undefined)
        throw unsupportedError(CHAIN, 'more than one SPL token transfer in one transaction (Tatum builds one)');
      const checked = ix.data[0] === 12;
      if (ix.data.length !== (checked ? 10 : 9))
        throw payloadError(CHAIN, `${what}: SPL transfer data has the wrong length`);
      const amount = u64(ix.data, 1, what);
      const [source, second, third, fourth] = ix.accounts;
      const dest = checked ? third : second;
      const owner = checked ? fourth : third;
      if (source === undefined || dest === undefined || owner === undefined)
        throw payloadError(CHAIN, `${what}: SPL transfer lacks accounts`);
      let mint: string;
      if (checked) mint = second!;
      else {
        const src = lookup(source);
        // The node's word for the mint is proven by the derivation: source = ATA(owner, mint).
        if (src === undefined || associatedTokenAddress(owner, src.mint) !== source) {
          throw unsupportedError(
            CHAIN,
            `${what}: the source token account ${source} is not the associated token account of its owner ${owner}; hardkms cannot tell which token it moves`,
          );
        }
        mint = src.mint;
      }
      const d = lookup(dest);
      const to = d !== undefined && d.mint === mint && associatedTokenAddress(d.owner, mint) === dest ? d.owner : dest;
      decoded.token = { contract: mint, standard: 'SPL', to, amount };
      continue;
    }
    if (ix.program === ASSOCIATED_TOKEN_PROGRAM && created.size > 0 && (ix.data.length === 0 || ix.data.length === 1))
      continue;
    if (MEMO_PROGRAMS.has(ix.program)) continue;
    if (ix.program === COMPUTE_BUDGET_PROGRAM) {
      budgeted++;
      if (ix.data[0] === 2 && ix.data.length === 5) unitLimit = BigInt(Buffer.from(ix.data).readUInt32LE(1));
      else if (ix.data[0] === 3 && ix.data.length === 9) unitPrice = u64(ix.data, 1, what);
      else
        throw unsupportedError(
          CHAIN,
          `${what}: compute-budget instruction ${ix.data[0] ?? '?'} is not signed (only SetComputeUnitLimit and SetComputeUnitPrice)`,
        );
      continue;
    }
    if (decoded.call !== undefined) {
      throw unsupportedError(
        CHAIN,
        `more than one instruction of programs hardkms does not decode (${decoded.call.to}, ${ix.program}); not signed`,
      );
    }
    const hex = Buffer.from(ix.data).toString('hex');
    decoded.call = {
      kind: 'call',
      to: ix.program,
      dataLength: ix.data.length,
      data: hex,
      ...(ix.data.length >= 4 ? { selector: `0x${hex.slice(0, 8)}` } : {}),
    };
  }
  const units = unitLimit ?? minBig(DEFAULT_UNITS_PER_INSTRUCTION * BigInt(ixs.length - budgeted), MAX_UNITS);
  // Priority fee: micro-lamports per unit × units, rounded up (as the runtime charges it).
  const priority = (unitPrice * units + 999_999n) / 1_000_000n;
  decoded.fee = LAMPORTS_PER_SIGNATURE * BigInt(p.numRequiredSignatures) + priority;
  return decoded;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * Every required signer must be one of the transaction's wallets (or Tatum's mint key),
 * and every wallet must be a required signer: refuses a foreign fee payer or signer
 * before anything is signed. Returns the signer for each required signature, in order.
 */
export function solSignersFor(p: SolPayload, wallets: readonly Ed25519Signer[], mint?: Ed25519Signer): Ed25519Signer[] {
  const required = p.keys.slice(0, p.numRequiredSignatures);
  const all = mint === undefined ? wallets : [...wallets, mint];
  const byAddress = new Map(all.map((s) => [base58Encode(s.publicKey), s]));
  const out: Ed25519Signer[] = [];
  for (const [i, key] of required.entries()) {
    const s = byAddress.get(key);
    if (s === undefined) {
      throw mismatchError(
        CHAIN,
        i === 0
          ? `the fee payer ${key} is not one of this transaction's wallets; refusing to sign (a fee payer that is not ours, e.g. Tatum's external fee payer, must sign elsewhere)`
          : `required signer ${key} is not one of this transaction's wallets; refusing to sign`,
      );
    }
    out.push(s);
  }
  for (const [address] of byAddress) {
    if (!required.includes(address)) {
      throw mismatchError(
        CHAIN,
        `${mint !== undefined && address === base58Encode(mint.publicKey) ? 'mintPK' : 'wallet'} ${address} is not a signer of this transaction (Tatum KMS: unknown signer)`,
      );
    }
  }
  return out;
}

/** The message with `blockhash` (base58, 32 bytes) in place of the placeholder. */
export function withBlockhash(p: SolPayload, blockhash: string): Uint8Array {
  let hash: Uint8Array;
  try {
    hash = base58Decode(blockhash);
  } catch {
    throw payloadError(CHAIN, 'the node answered a blockhash that is not base58');
  }
  if (hash.length !== 32) throw payloadError(CHAIN, 'the node answered a blockhash that is not 32 bytes');
  const out = Uint8Array.from(p.bytes);
  out.set(hash, blockhashOffset(out));
  return out;
}

/** Signs with every required signer over the message with the fresh blockhash; the wire transaction, base64. */
export async function signSol(p: SolPayload, signers: readonly Ed25519Signer[], blockhash: string): Promise<string> {
  const message = withBlockhash(p, blockhash);
  const sigs: Uint8Array[] = [];
  for (const s of signers) sigs.push(await signEd25519Checked(s, message));
  const count = shortvec(sigs.length);
  return Buffer.concat([count, ...sigs, message]).toString('base64');
}

/** The wire transaction's parts: signatures and message bytes. */
function splitSolWire(base64: string): { signatures: Uint8Array[]; message: Uint8Array } {
  const wire = Uint8Array.from(Buffer.from(base64, 'base64'));
  const n = shortvecLength(wire, 0);
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < n.value; i++) signatures.push(wire.slice(n.size + 64 * i, n.size + 64 * (i + 1)));
  return { signatures, message: wire.slice(n.size + 64 * n.value) };
}

/** The transaction id: the first signature, base58. */
export function solTxId(base64: string): string {
  const first = splitSolWire(base64).signatures[0];
  if (first === undefined || first.length !== 64) throw payloadError(CHAIN, 'the signed transaction has no signature');
  return base58Encode(first);
}

/** Why a journaled wire transaction is not a signed form of the payload's message (blockhash aside), or undefined. */
export function solSignedMismatch(payload: unknown, signedBase64: string): string | undefined {
  const p = parseSolPayload(payload);
  p.mintSeed?.fill(0);
  const { signatures, message } = splitSolWire(signedBase64);
  if (message.length !== p.bytes.length) return 'the message differs';
  const at = blockhashOffset(p.bytes);
  const a = Uint8Array.from(message);
  const b = Uint8Array.from(p.bytes);
  a.fill(0, at, at + 32);
  b.fill(0, at, at + 32);
  if (!bytesEqual(a, b)) return 'the message differs';
  if (signatures.length !== p.numRequiredSignatures) return 'the number of signatures differs';
  for (const [i, sig] of signatures.entries()) {
    if (!verifyEd25519(sig, message, base58Decode(p.keys[i]!))) return `signature ${i} does not verify`;
  }
  return undefined;
}
