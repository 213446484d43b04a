/**
 * Attacks on XLM signing that Tatum KMS does not stop (its signer appends a signature to
 * whatever envelope it is given): a key that does not own the source account, an envelope
 * that already carries a signature, an operation acting for another account.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { Asset, Keypair, Networks, Operation, TransactionBuilder } from '@stellar/stellar-base';
import { describe, expect, it } from 'vitest';
import { signXlm } from '../../src/chains/xlm/sign.js';
import { hostSigner, xlmEnvelope } from '../support/xlm.js';

const mine = new Uint8Array(32).fill(7);
const victim = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 0x55));
const attacker = Keypair.fromRawEd25519Seed(Buffer.alloc(32, 0x66)).publicKey();

describe('XLM signing attacks', () => {
  it('a transaction from another account is not signed with our key (would be a useless or co-signing signature)', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: attacker, asset: Asset.native(), amount: '100' }), {
      source: victim.publicKey(),
    });
    await expect(signXlm(st, [hostSigner(mine)], true)).rejects.toThrow(
      /source account .* is not the signing wallet's account/,
    );
  });

  it('an already-signed envelope is refused, not co-signed', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: attacker, asset: Asset.native(), amount: '1' }));
    const tx = TransactionBuilder.fromXDR(st, Networks.TESTNET);
    tx.sign(victim);
    await expect(signXlm(tx.toEnvelope().toXDR('base64'), [hostSigner(mine)], true)).rejects.toThrow(
      /already carries 1 signature/,
    );
  });

  it('an operation whose own source is another account is refused', async () => {
    const st = xlmEnvelope(
      Operation.payment({ destination: attacker, asset: Asset.native(), amount: '1', source: victim.publicKey() }),
    );
    await expect(signXlm(st, [hostSigner(mine)], true)).rejects.toThrow(/operation source .* differs/);
  });

  it('a signer returning a signature of other bytes is caught before anything leaves', async () => {
    const st = xlmEnvelope(Operation.payment({ destination: attacker, asset: Asset.native(), amount: '1' }));
    const bad = {
      publicKey: ed25519.getPublicKey(mine),
      sign: () => Promise.resolve(ed25519.sign(Buffer.from('other'), mine)),
    };
    await expect(signXlm(st, [bad], true)).rejects.toThrow(/does not verify/);
  });
});
