/**
 * Builders for the serializedTransaction payloads Tatum hands the KMS daemon (spec §3),
 * for tests and the demo: bitcore JSON for BTC / LTC / DOGE, web3-style JSON for EVM.
 * They build what an application would ask Tatum to create; they never sign anything.
 */
import { Transaction } from 'bitcoinjs-lib';

/** An output being spent: where it is and what it locks (scriptPubKey), as bitcore's input.output. */
export interface SpendableOutput {
  txid: string;
  vout: number;
  satoshis: number;
  script: Uint8Array;
}

export interface PlannedOutput {
  script: Uint8Array;
  satoshis: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * bitcore-lib's `Transaction.toJSON()` of an unsigned transaction (version 2, final
 * sequences, no lock time): `hash` is the unsigned txid, which the daemon recomputes.
 */
export function bitcoreJson(inputs: SpendableOutput[], outputs: PlannedOutput[]): string {
  const tx = new Transaction();
  tx.version = 2;
  for (const i of inputs) tx.addInput(Buffer.from(i.txid, 'hex').reverse(), i.vout, 0xffffffff);
  for (const o of outputs) tx.addOutput(o.script, BigInt(o.satoshis));
  return JSON.stringify({
    hash: tx.getId(),
    version: 2,
    inputs: inputs.map((i) => ({
      prevTxId: i.txid,
      outputIndex: i.vout,
      sequenceNumber: 0xffffffff,
      script: '',
      scriptString: '',
      output: { satoshis: i.satoshis, script: hex(i.script) },
    })),
    outputs: outputs.map((o) => ({ satoshis: o.satoshis, script: hex(o.script) })),
    nLockTime: 0,
  });
}

/** Fields of a web3-style EVM payload (§3.5); absent nonce / gas are for the daemon to fill. */
export interface EvmPayloadFields {
  to: string;
  value?: bigint;
  data?: string;
  nonce?: number;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}

/** The payload as Tatum serialises it: numbers as decimal strings, `from: 0` as web3 leaves it. */
export function evmPayload(fields: EvmPayloadFields): string {
  const out: Record<string, unknown> = { from: 0, to: fields.to };
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'to' || v === undefined) continue;
    out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return JSON.stringify(out);
}
