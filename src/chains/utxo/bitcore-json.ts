import * as bscript from 'bitcoinjs-lib/src/script';
import { Transaction } from 'bitcoinjs-lib/src/transaction';
import {
  bytesEqual,
  kindOf,
  hexField,
  isPlainObject,
  mismatchError,
  parseJsonPayload,
  payloadError,
  smallUintField,
  toHex,
  uintField,
  unsupportedError,
} from '../decoded.js';

/**
 * Reader for the BTC/LTC/DOGE pending-transaction payload: the JSON of a bitcore-lib
 * `Transaction.toObject()` (spec §3.2). It checks every field we use, rebuilds the
 * unsigned transaction with bitcoinjs-lib, and refuses it when the payload's own `hash`
 * or change fields disagree with what was rebuilt.
 */

interface BitcoreInput {
  /** txid in display (reversed) byte order, lowercase hex. */
  prevTxId: string;
  outputIndex: number;
  sequenceNumber: number;
  /** scriptPubKey of the spent output. */
  prevScript: Uint8Array;
  /** value of the spent output. */
  satoshis: bigint;
}

interface BitcoreOutput {
  script: Uint8Array;
  satoshis: bigint;
}

export interface BitcoreTx {
  hash?: string;
  version: number;
  nLockTime: number;
  inputs: BitcoreInput[];
  outputs: BitcoreOutput[];
  changeIndex?: number;
  changeScript?: Uint8Array;
  /** Declared fee; informational (bitcore keeps it even when a dust change output was dropped). */
  fee?: bigint;
}

const UINT32_MAX = 0xffffffff;
const INT64_MAX = (1n << 63n) - 1n;

export function parseBitcoreTx(chain: string, payload: unknown): BitcoreTx {
  const o = parseJsonPayload(chain, payload);

  let hash: string | undefined;
  if (o.hash !== undefined && o.hash !== null) {
    hash = toHex(hexField(chain, 'hash', o.hash, { length: 32 }));
  }
  const version = o.version === undefined ? 2 : smallUintField(chain, 'version', o.version, 0x7fffffff);
  const nLockTime = o.nLockTime === undefined ? 0 : smallUintField(chain, 'nLockTime', o.nLockTime, UINT32_MAX);

  if (!Array.isArray(o.inputs) || o.inputs.length === 0) throw payloadError(chain, 'inputs must be a non-empty array');
  if (!Array.isArray(o.outputs) || o.outputs.length === 0)
    throw payloadError(chain, 'outputs must be a non-empty array');
  const inputs = o.inputs.map((v, i) => parseInput(chain, v, i));
  const outputs = o.outputs.map((v, i) => parseOutput(chain, v, `outputs[${i}]`));

  const tx: BitcoreTx = { version, nLockTime, inputs, outputs };
  if (hash !== undefined) tx.hash = hash;
  if (o.changeIndex !== undefined && o.changeIndex !== null) {
    tx.changeIndex = smallUintField(chain, 'changeIndex', o.changeIndex, outputs.length - 1);
  }
  if (o.changeScript !== undefined && o.changeScript !== null) {
    if (typeof o.changeScript !== 'string') throw payloadError(chain, 'changeScript must be a string');
    tx.changeScript = parseBitcoreScriptString(chain, o.changeScript);
  }
  if (o.fee !== undefined && o.fee !== null) tx.fee = uintField(chain, 'fee', o.fee, { max: INT64_MAX });
  return tx;
}

function parseInput(chain: string, v: unknown, i: number): BitcoreInput {
  const at = `inputs[${i}]`;
  if (!isPlainObject(v)) throw payloadError(chain, `${at} must be an object`);
  const prevTxId = toHex(hexField(chain, `${at}.prevTxId`, v.prevTxId, { length: 32 }));
  const outputIndex = smallUintField(chain, `${at}.outputIndex`, v.outputIndex, UINT32_MAX);
  const sequenceNumber =
    v.sequenceNumber === undefined
      ? Transaction.DEFAULT_SEQUENCE
      : smallUintField(chain, `${at}.sequenceNumber`, v.sequenceNumber, UINT32_MAX);
  // An input that already carries a scriptSig or witness is not an unsigned input: signing
  // over it would discard or contradict what is there.
  if (v.script !== undefined && v.script !== null && v.script !== '') {
    throw unsupportedError(chain, `${at} already has a scriptSig; only unsigned inputs are signed`);
  }
  if (v.witnesses !== undefined && !(Array.isArray(v.witnesses) && v.witnesses.length === 0)) {
    throw unsupportedError(chain, `${at} already has witness data; only unsigned inputs are signed`);
  }
  if (v.output === undefined || v.output === null) {
    throw payloadError(chain, `${at}.output is missing: the spent output's satoshis and script are needed to sign`);
  }
  const out = parseOutput(chain, v.output, `${at}.output`);
  return { prevTxId, outputIndex, sequenceNumber, prevScript: out.script, satoshis: out.satoshis };
}

function parseOutput(chain: string, v: unknown, at: string): BitcoreOutput {
  if (!isPlainObject(v)) throw payloadError(chain, `${at} must be an object with satoshis and script`);
  const satoshis = uintField(chain, `${at}.satoshis`, v.satoshis, { max: INT64_MAX });
  const script = hexField(chain, `${at}.script`, v.script);
  return { script, satoshis };
}

/**
 * bitcore's `Script.toString()` text (e.g. `OP_DUP OP_HASH160 20 0x… OP_EQUALVERIFY
 * OP_CHECKSIG`, `OP_0 20 0x…`) back to bytes, keeping bitcore's push encodings exactly so
 * the result can be compared byte for byte. Like bitcore, a bare hex string is raw script.
 */
function parseBitcoreScriptString(chain: string, text: string): Uint8Array {
  if (text.length === 0) return new Uint8Array(0);
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return hexField(chain, 'changeScript', text);
  const bad = (why: string) => payloadError(chain, `changeScript is not a bitcore script string: ${why}`);
  const tokens = text.split(' ');
  const out: number[] = [];
  const pushData = (lenTok: string | undefined, dataTok: string | undefined, lenBytes: 0 | 1 | 2 | 4): void => {
    if (lenTok === undefined || !/^[0-9]+$/.test(lenTok)) throw bad(`expected a length, got ${kindOf(lenTok)}`);
    if (dataTok === undefined || !/^0x([0-9a-fA-F]{2})*$/.test(dataTok))
      throw bad(`expected 0x-hex data, got ${kindOf(dataTok)}`);
    const len = Number(lenTok);
    const data = Buffer.from(dataTok.slice(2), 'hex');
    if (data.length !== len) throw bad(`push of ${len} bytes carries ${data.length}`);
    if (lenBytes === 0) out.push(len);
    else if (lenBytes === 1) out.push(0x4c, len);
    else if (lenBytes === 2) out.push(0x4d, len & 0xff, len >> 8);
    else out.push(0x4e, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >>> 24);
    out.push(...data);
  };
  for (let i = 0; i < tokens.length;) {
    const t = tokens[i]!;
    if (t === 'OP_PUSHDATA1' || t === 'OP_PUSHDATA2' || t === 'OP_PUSHDATA4') {
      pushData(tokens[i + 1], tokens[i + 2], t === 'OP_PUSHDATA1' ? 1 : t === 'OP_PUSHDATA2' ? 2 : 4);
      i += 3;
    } else if (t.startsWith('OP_')) {
      const code: unknown = (bscript.OPS as unknown as Record<string, unknown>)[t];
      if (typeof code !== 'number') throw bad(`token ${i + 1} is an unknown opcode (${kindOf(t)})`);
      out.push(code);
      i += 1;
    } else if (/^[0-9]+$/.test(t) && Number(t) > 0 && Number(t) < 0x4c) {
      pushData(t, tokens[i + 1], 0);
      i += 2;
    } else if (/^0x[0-9a-fA-F]{2}$/.test(t)) {
      // opcode bitcore has no name for
      out.push(parseInt(t.slice(2), 16));
      i += 1;
    } else {
      throw bad(`token ${i + 1} is unexpected (${kindOf(t)})`);
    }
  }
  return Uint8Array.from(out);
}

/**
 * The unsigned bitcoinjs-lib transaction the payload describes, after checking the
 * payload's `hash` (when present) and change fields against it.
 */
export function buildUnsignedTransaction(chain: string, p: BitcoreTx): Transaction {
  const tx = new Transaction();
  tx.version = p.version;
  tx.locktime = p.nLockTime;
  for (const input of p.inputs) {
    tx.addInput(Uint8Array.from(Buffer.from(input.prevTxId, 'hex').reverse()), input.outputIndex, input.sequenceNumber);
  }
  for (const output of p.outputs) tx.addOutput(output.script, output.satoshis);

  if (p.hash !== undefined) {
    const id = tx.getId();
    if (id !== p.hash) {
      throw mismatchError(
        chain,
        `hash ${p.hash} does not match the transaction rebuilt from the payload (${id})`,
        'The payload was altered or built by an incompatible tool; it was not signed.',
      );
    }
  }
  if (p.changeIndex !== undefined && p.changeScript !== undefined) {
    if (!bytesEqual(p.outputs[p.changeIndex]!.script, p.changeScript)) {
      throw mismatchError(chain, `outputs[${p.changeIndex}] (changeIndex) does not pay to changeScript`);
    }
  }
  const totalIn = p.inputs.reduce((a, x) => a + x.satoshis, 0n);
  const totalOut = p.outputs.reduce((a, x) => a + x.satoshis, 0n);
  if (totalOut > totalIn) throw payloadError(chain, `outputs (${totalOut} sat) exceed inputs (${totalIn} sat)`);
  return tx;
}
