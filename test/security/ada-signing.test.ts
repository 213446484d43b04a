/**
 * Attacks on ADA signing (chains/ada/sign.ts), each refused before anything is signed or sent:
 * operations spending an address no wallet of the transaction owns (Tatum KMS would sign with
 * an undefined key), and a lying Rosetta node (Tatum's or the operator's) that answers another
 * transaction (an output swapped, an extra body field, a payload that is not the body hash,
 * a payload for a foreign address, a combine answer with another body). ADA was not signed
 * before these checks existed, so no old code could be seen accepting them.
 */
import C from '@emurgo/cardano-serialization-lib-nodejs';
import { describe, expect, it } from 'vitest';
import { adaSignersByAddress, parseAdaOperations, prepareAda } from '../../src/chains/ada/sign.js';
import { cborEncode, FakeCardanoRosetta } from '../support/ada-rosetta.js';
import { ME, OTHER_ADDR, ME_ADDR, rosettaOf, tatumOps } from '../support/ada-payloads.js';

describe('ADA signing attacks', () => {
  it('refuses an input address that no wallet of the transaction owns (Tatum would sign with no key)', () => {
    const ops = parseAdaOperations(JSON.stringify(tatumOps({ from: OTHER_ADDR })), true);
    expect(() => adaSignersByAddress(ops, [ME], true)).toThrow(/not the address of any wallet/);
  });

  it('refuses a lying Rosetta node: another output, an extra field, a payload that is not the body hash, a foreign address, a swapped combine', async () => {
    const ops = parseAdaOperations(JSON.stringify(tatumOps()), true);
    const byAddress = adaSignersByAddress(ops, [ME], true);
    const lie = async (tamper: FakeCardanoRosetta['tamper']) => {
      const fake = new FakeCardanoRosetta();
      fake.tamper = tamper;
      const p = await prepareAda(ops, rosettaOf(fake), byAddress, true);
      return p.sign();
    };
    const rebuild =
      (mutate: (b: C.TransactionBody) => C.TransactionBody) => (endpoint: string, answer: Record<string, unknown>) => {
        if (endpoint !== 'payloads') return answer;
        const hex = decodeEnvelopeTx(String(answer.unsigned_transaction));
        const body = mutate(C.TransactionBody.from_hex(hex));
        return { ...answer, unsigned_transaction: cborEncode([body.to_hex(), {}]).toString('hex') };
      };
    await expect(
      lie(
        rebuild((b) => {
          const outs = C.TransactionOutputs.new();
          outs.add(
            C.TransactionOutput.new(C.Address.from_bech32(OTHER_ADDR), C.Value.new(C.BigNum.from_str('1000000'))),
          );
          outs.add(b.outputs().get(1));
          return C.TransactionBody.new(b.inputs(), outs, b.fee(), b.ttl());
        }),
      ),
    ).rejects.toThrow(/output 0 is not/);
    await expect(
      lie(
        rebuild((b) => {
          b.set_validity_start_interval(5);
          return b;
        }),
      ),
    ).rejects.toThrow(/validity_start_interval/);
    await expect(
      lie((e, a) =>
        e === 'payloads' ? { ...a, payloads: [{ ...(a.payloads as object[])[0], hex_bytes: '00'.repeat(32) }] } : a,
      ),
    ).rejects.toThrow(/not the blake2b-256/);
    await expect(
      lie((e, a) =>
        e === 'payloads'
          ? { ...a, payloads: [{ ...(a.payloads as object[])[0], account_identifier: { address: OTHER_ADDR } }] }
          : a,
      ),
    ).rejects.toThrow(/no input's address/);
    const other = new FakeCardanoRosetta();
    const otherTx = await (
      await prepareAda(
        parseAdaOperations(
          JSON.stringify(tatumOps({ value: '2000000', change: ME_ADDR, changeValue: '7800000' })),
          true,
        ),
        rosettaOf(other),
        byAddress,
        true,
      )
    ).sign();
    await expect(lie((e, a) => (e === 'combine' ? { signed_transaction: otherTx.txData } : a))).rejects.toThrow(
      /another body/,
    );
  });
});

function decodeEnvelopeTx(hex: string): string {
  return Buffer.from(decodeSignedEnvelopeBody(hex)).toString('latin1');
}
function decodeSignedEnvelopeBody(hex: string): Buffer {
  const b = Buffer.from(hex, 'hex');
  // [text(len), …]: the fake writes lengths < 2^16 as 0x79 + 2 bytes.
  const len = b[1] === 0x79 ? b.readUInt16BE(2) : b[2]!;
  const start = b[1] === 0x79 ? 4 : 3;
  return b.subarray(start, start + len);
}
