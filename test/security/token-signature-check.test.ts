/**
 * A token signature is used only if it is the wallet key's (issue 13 moved the check): the
 * token now returns r‖s alone (signWithWrapped) and the chain's signDigestChecked finds
 * the recovery id against the wallet's public key, which is the same recovery that checks the
 * key. The same for ed25519: the token's signEd25519WithWrapped is checked once, by
 * the chain's signEd25519Checked. Attack: the token signs with another key than the wallet's
 * (a faulty or substituted device, a wrapped blob of another wallet). Nothing signed with it
 * may leave: EVM, UTXO and XLM refuse with SIGNATURE_INVALID, on a real SoftHSM2 token (TRON,
 * BCH, VET and XRP go through the same signDigestChecked; ALGO, SOL, EGLD and XRP's ed25519
 * through the same signEd25519Checked).
 */
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { signEvm } from '../../src/chains/evm/sign.js';
import { signUtxo } from '../../src/chains/utxo/sign.js';
import { signingKeyFor, defaultSigningKeyDeps } from '../../src/signer/pipeline/signing-keys.js';
import { ed25519SignerFor } from '../../src/signer/pipeline/ed25519-signing-keys.js';
import { signXlm } from '../../src/chains/xlm/sign.js';
import { chainKit } from '../../src/chains/kit.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { Keypair, Networks, Operation, Asset, TransactionBuilder } from '@stellar/stellar-base';
import { xlmEnvelope } from '../support/xlm.js';
import { bitcoreJson, evmPayload } from '../../scripts/lib/payloads.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, compressedPub, testKey } from '../e2e/support.js';

describe('a token signature by a key other than the wallet’s is refused', () => {
  let tv: TestVault | undefined;
  afterEach(() => tv?.vault.seal('test end'));

  /** The wallet's signer, but the token signs with `other`'s key (a swapped device or blob). */
  async function swappedSigner() {
    tv = await createTestVault({ testnetOnly: true });
    const wallet = tv.vault.store.requireEntry(addPrivateKey(tv.vault, 'ETH', true, testKey(0x51)));
    const other = tv.vault.store.requireEntry(addPrivateKey(tv.vault, 'ETH', true, testKey(0x52)));
    const vault = tv.vault;
    const honest = signingKeyFor(vault, { entry: wallet, publicKey: compressedPub(testKey(0x51)) });
    const swapped = signingKeyFor(
      vault,
      { entry: wallet, publicKey: compressedPub(testKey(0x51)) },
      {
        ...defaultSigningKeyDeps,
        signWrapped: (v, _entry, digest) => defaultSigningKeyDeps.signWrapped(v, other, digest),
      },
    );
    return { honest, swapped };
  }

  it('EVM: signs with the wallet key, refuses the other key’s signature', async () => {
    const { honest, swapped } = await swappedSigner();
    const payload = evmPayload({
      to: '0x1111111111111111111111111111111111111111',
      value: 1n,
      gasPrice: 1_000_000_000n,
      gas: 21_000n,
      nonce: 0,
    });
    const opts = { chain: 'ETH', chainId: 11155111 };
    expect(await signEvm(payload, [honest], opts)).toMatch(/^0x/);
    await expect(signEvm(payload, [swapped], opts)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('UTXO (bitcore JSON): refuses the other key’s signature for the wallet’s input', async () => {
    const { honest, swapped } = await swappedSigner();
    const script = bitcoin.payments.p2pkh({
      pubkey: Buffer.from(honest.publicKey),
      network: bitcoin.networks.testnet,
    }).output!;
    const payload = bitcoreJson(
      [{ txid: randomBytes(32).toString('hex'), vout: 0, satoshis: 100_000, script }],
      [{ script, satoshis: 90_000 }],
    );
    const opts = { chain: 'BTC' as const };
    expect(typeof (await signUtxo(payload, [honest], opts))).toBe('string');
    await expect(signUtxo(payload, [swapped], opts)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('ed25519 (XLM): signs with the wallet key, refuses the other key’s signature', async () => {
    tv = await createTestVault({ testnetOnly: true });
    const seed = Buffer.alloc(32, 7); // xlmEnvelope()'s default source account
    const me = Keypair.fromRawEd25519Seed(seed);
    const kit = chainKit('XLM');
    const wallet = prepareImportedPrivateKey(tv.vault, kit, true, me.secret());
    const other = prepareImportedPrivateKey(tv.vault, kit, true, Keypair.random().secret());
    tv.vault.store.addEntries([wallet, other]);
    const entry = tv.vault.store.requireEntry(wallet.signatureId);
    const otherEntry = tv.vault.store.requireEntry(other.signatureId);
    const publicKey = me.rawPublicKey();
    const honest = ed25519SignerFor(tv.vault, { entry, publicKey });
    // The wallet's public key, but the token holds (and signs with) the other wallet's key.
    const swapped = ed25519SignerFor(tv.vault, { entry: otherEntry, publicKey });
    const envelope = xlmEnvelope(
      Operation.payment({ destination: Keypair.random().publicKey(), asset: Asset.native(), amount: '1' }),
    );
    const signed = await signXlm(envelope, [honest], true);
    const tx = TransactionBuilder.fromXDR(signed, Networks.TESTNET);
    expect(me.verify(tx.hash(), tx.signatures[0]!.signature())).toBe(true);
    await expect(signXlm(envelope, [swapped], true)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });
});
