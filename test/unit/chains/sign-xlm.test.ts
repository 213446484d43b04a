/**
 * XLM decode and sign (src/chains/xlm/sign.ts) against Stellar's own library: envelopes
 * built by @stellar/stellar-base as Tatum's builder does, the signed envelope parsed back
 * and its signature verified for the source account under the right network passphrase.
 */
import { Asset, Keypair, Memo, Networks, Operation, TransactionBuilder, type Transaction } from '@stellar/stellar-base';
import { describe, expect, it } from 'vitest';
import { decodeXlm, signXlm } from '../../../src/chains/xlm/sign.js';
import { hostSigner, xlmEnvelope } from '../../support/xlm.js';

const seed = new Uint8Array(32).fill(7);
const me = Keypair.fromRawEd25519Seed(Buffer.from(seed));
const dest = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 9)).publicKey();
const issuer = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 3)).publicKey();

function signedBy(xdr: string, testnet: boolean): Transaction {
  const tx = TransactionBuilder.fromXDR(xdr, testnet ? Networks.TESTNET : Networks.PUBLIC) as Transaction;
  return tx;
}

describe('XLM payloads', () => {
  it('signs a native payment: one DecoratedSignature of the source account over the testnet hash; deterministic', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: dest, asset: Asset.native(), amount: '12.5' }), {
      memo: Memo.text('order 7'),
    });
    expect(decodeXlm(st, true)).toEqual({
      chain: 'XLM',
      outputs: [{ address: dest, amount: 125_000_000n }],
      fee: 100n,
    });
    const out = await signXlm(st, [hostSigner(seed)], true);
    const tx = signedBy(out, true);
    expect(tx.signatures).toHaveLength(1);
    expect(Buffer.from(tx.signatures[0]!.hint())).toEqual(me.rawPublicKey().subarray(28));
    expect(me.verify(tx.hash(), tx.signatures[0]!.signature())).toBe(true);
    // Signed over the TESTNET passphrase: the PUBLIC hash does not verify.
    const asPublic = signedBy(out, false);
    expect(me.verify(asPublic.hash(), asPublic.signatures[0]!.signature())).toBe(false);
    expect(await signXlm(st, [hostSigner(seed)], true)).toBe(out);
    expect((tx.memo.value as Buffer).toString()).toBe('order 7');
  });

  it('mainnet daemon signs over the PUBLIC passphrase', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: dest, asset: Asset.native(), amount: '1' }), {
      testnet: false,
    });
    const tx = signedBy(await signXlm(st, [hostSigner(seed)], false), false);
    expect(me.verify(tx.hash(), tx.signatures[0]!.signature())).toBe(true);
  });

  it('decodes issued-asset payments as tokens, createAccount as a native output, changeTrust as no movement', () => {
    const usd = new Asset('USD', issuer);
    expect(
      decodeXlm(xlmEnvelope(Operation.payment({ destination: dest, asset: usd, amount: '0.0000001' })), true).token,
    ).toEqual({
      contract: `USD:${issuer}`,
      standard: 'XLM_ASSET',
      to: dest,
      amount: 1n,
    });
    expect(
      decodeXlm(xlmEnvelope(Operation.createAccount({ destination: dest, startingBalance: '2' })), true).outputs,
    ).toEqual([{ address: dest, amount: 20_000_000n }]);
    expect(decodeXlm(xlmEnvelope(Operation.changeTrust({ asset: usd, limit: '1000' })), true)).toEqual({
      chain: 'XLM',
      outputs: [],
      fee: 100n,
    });
  });

  it('refuses operations Tatum does not build (accountMerge, setOptions) and garbage', () => {
    expect(() => decodeXlm(xlmEnvelope(Operation.accountMerge({ destination: dest })), true)).toThrow(
      /accountMerge is not signed/,
    );
    expect(() =>
      decodeXlm(xlmEnvelope(Operation.setOptions({ signer: { ed25519PublicKey: dest, weight: 1 } })), true),
    ).toThrow(/setOptions is not signed/);
    expect(() => decodeXlm('not base64!', true)).toThrow(/base64 TransactionEnvelope/);
    expect(() => decodeXlm('AAAA', true)).toThrow(/not a TransactionEnvelope/);
  });
});
