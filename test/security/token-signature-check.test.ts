/**
 * A token signature is used only if it is the wallet key's (issue 13 moved the check): the
 * token now returns r‖s alone (signWithWrappedRS) and the chain's signDigestChecked finds
 * the recovery id against the wallet's public key, which is the same recovery that checks the
 * key. Attack: the token signs with another key than the wallet's (a faulty or substituted
 * device, a wrapped blob of another wallet). Nothing signed with it may leave: EVM and UTXO
 * (TRON, BCH, VET and XRP go through the same signDigestChecked) refuse with
 * SIGNATURE_INVALID, on a real SoftHSM2 token.
 */
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { signEvm } from '../../src/chains/evm/sign.js';
import { signUtxo } from '../../src/chains/utxo/sign.js';
import { signingKeyFor, defaultSigningKeyDeps } from '../../src/signer/pipeline/signing-keys.js';
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
    const payload = JSON.stringify({
      to: '0x1111111111111111111111111111111111111111',
      value: '1',
      gasPrice: '1000000000',
      gas: 21000,
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
    const prev = randomBytes(32).toString('hex');
    const t = new bitcoin.Transaction();
    t.version = 2;
    t.addInput(Buffer.from(prev, 'hex').reverse(), 0, 0xffffffff);
    t.addOutput(script, 90_000n);
    const payload = JSON.stringify({
      hash: t.getId(),
      version: 2,
      inputs: [
        {
          prevTxId: prev,
          outputIndex: 0,
          sequenceNumber: 0xffffffff,
          script: '',
          scriptString: '',
          output: { satoshis: 100_000, script: Buffer.from(script).toString('hex') },
        },
      ],
      outputs: [{ satoshis: 90_000, script: Buffer.from(script).toString('hex') }],
      nLockTime: 0,
    });
    const opts = { chain: 'BTC' as const };
    expect(typeof (await signUtxo(payload, [honest], opts))).toBe('string');
    await expect(signUtxo(payload, [swapped], opts)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });
});
