/**
 * Attacks on XRP signing that Tatum KMS does not stop (its signer is
 * `Wallet.fromSeed(secret).sign(JSON.parse(st))`: any seed, any transaction): a payment
 * from another account, a transaction that already carries a signature, a partial
 * payment or SendMax/Paths that can spend more than the Amount the policy sees, a
 * transaction without LastLedgerSequence that never expires, a NetworkID of another chain,
 * a signer that returns a signature over other bytes.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { signXrp } from '../../src/chains/xrp/sign.js';
import { parseXrpSecret, xrpSigningKey } from '../../src/chains/xrp/keys.js';
import { addressOf, ED_SEED, hostXrpKey, SECP_ADDRESS, xrpPayment } from '../support/xrp.js';

const ME = addressOf(ED_SEED);
const key = () => hostXrpKey(ED_SEED);

describe('XRP signing attacks', () => {
  it('a payment from another account is not signed with our key', async () => {
    await expect(signXrp(xrpPayment(SECP_ADDRESS), key())).rejects.toThrow(
      /Account r\w+ is not the signing wallet's address/,
    );
  });

  it('an already-signed transaction (TxnSignature, SigningPubKey or Signers) is refused', async () => {
    for (const extra of [{ TxnSignature: 'AB' }, { SigningPubKey: '' }, { Signers: [] }]) {
      await expect(signXrp(xrpPayment(ME, extra), key())).rejects.toThrow(/already has/);
    }
  });

  it('partial payments, SendMax, Paths and DeliverMin (spending beyond Amount) are refused', async () => {
    await expect(signXrp(xrpPayment(ME, { Flags: 0x00020000 }), key())).rejects.toThrow(/partial payment/);
    for (const extra of [{ SendMax: '100000000000' }, { Paths: [] }, { DeliverMin: '1' }]) {
      await expect(signXrp(xrpPayment(ME, extra), key())).rejects.toThrow(/is not signed in a Payment/);
    }
  });

  it('a transaction that never expires (no LastLedgerSequence) or names another network (NetworkID) is refused', async () => {
    const noExpiry = JSON.parse(xrpPayment(ME)) as Record<string, unknown>;
    delete noExpiry.LastLedgerSequence;
    await expect(signXrp(JSON.stringify(noExpiry), key())).rejects.toThrow(/LastLedgerSequence is missing/);
    await expect(signXrp(xrpPayment(ME, { NetworkID: 21338 }), key())).rejects.toThrow(/"NetworkID" is not signed/);
  });

  it('a signer returning a signature over other bytes is caught before anything leaves', async () => {
    const k = xrpSigningKey(parseXrpSecret(ED_SEED));
    const bad = {
      curve: 'ed25519' as const,
      signer: { publicKey: k.publicKey, sign: () => Promise.resolve(ed25519.sign(Buffer.from('other'), k.privateKey)) },
    };
    await expect(signXrp(xrpPayment(ME), bad)).rejects.toThrow(/does not verify/);
  });
});
