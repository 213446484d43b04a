/**
 * Attacks on ALGO signing that Tatum KMS does not stop (`signAlgoKMSTransaction` signs with
 * any key, ignores the network, drops fields silently and reads an ASA fee per byte): a
 * payment from another account, a close-remainder-to or rekey-to that hands over the
 * account, a transaction for the other network, a per-byte fee far above any sane fee
 * (refused by the policy's built-in fee limit, with no policy file), a bad signature.
 */
import { ed25519 } from '@noble/curves/ed25519';
import algosdk from 'algosdk';
import { describe, expect, it } from 'vitest';
import { decodeAlgo, signAlgo } from '../../src/chains/algo/sign.js';
import { evaluatePolicy } from '../../src/signer/pipeline/policy.js';
import { algoPayload, byteMap } from '../support/algo.js';
import { hostSigner } from '../support/xlm.js';

const mine = new Uint8Array(32).fill(5);
const ME = algosdk.encodeAddress(ed25519.getPublicKey(mine));
const VICTIM = algosdk.encodeAddress(ed25519.getPublicKey(new Uint8Array(32).fill(0x55)));
const ATTACKER = algosdk.encodeAddress(ed25519.getPublicKey(new Uint8Array(32).fill(0x66)));
const attackerBytes = { publicKey: byteMap(algosdk.decodeAddress(ATTACKER).publicKey) };

describe('ALGO signing attacks', () => {
  it('a payment from another account is not signed with our key', async () => {
    await expect(signAlgo(algoPayload({ from: VICTIM, to: ATTACKER }), [hostSigner(mine)], true)).rejects.toThrow(
      /sender [A-Z2-7]{58} is not the signing wallet's address/,
    );
  });

  it('closeRemainderTo, reKeyTo and assetCloseTo (hand over everything) are refused, not dropped or signed', async () => {
    for (const k of ['closeRemainderTo', 'reKeyTo', 'assetCloseTo']) {
      await expect(
        signAlgo(
          algoPayload({ from: ME, to: ATTACKER, amount: 1, extra: { [k]: attackerBytes } }),
          [hostSigner(mine)],
          true,
        ),
      ).rejects.toThrow(new RegExp(`${k} is set`));
    }
  });

  it('a transaction of the other network is refused (Tatum ignores --testnet for ALGO)', async () => {
    await expect(
      signAlgo(algoPayload({ from: ME, to: ATTACKER, testnet: false }), [hostSigner(mine)], true),
    ).rejects.toThrow(/another network/);
    const forged = JSON.parse(algoPayload({ from: ME, to: ATTACKER })) as Record<string, unknown>;
    forged.genesisHash = { type: 'Buffer', data: [...new Uint8Array(32).fill(1)] };
    await expect(signAlgo(JSON.stringify(forged), [hostSigner(mine)], true)).rejects.toThrow(
      /genesisHash is not the testnet-v1.0 genesis hash/,
    );
  });

  it("a per-byte ASA fee (Tatum's reading) far above a sane fee is refused by the built-in fee limit, without a policy file", () => {
    const decoded = decodeAlgo(algoPayload({ from: ME, to: ATTACKER, type: 'axfer', amount: 1, fee: 10_000 }), true);
    expect(decoded.fee).toBeGreaterThan(2_000_000n);
    const verdict = evaluatePolicy(undefined, decoded, {
      chain: 'ALGO',
      signatureIds: ['w'],
      spent24h: () => 0n,
      defaultDeny: false,
    });
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/fee/) });
  });

  it('a signer returning a signature over other bytes is caught before anything leaves', async () => {
    const bad = {
      publicKey: ed25519.getPublicKey(mine),
      sign: () => Promise.resolve(ed25519.sign(Buffer.from('other'), mine)),
    };
    await expect(signAlgo(algoPayload({ from: ME, to: ATTACKER }), [bad], true)).rejects.toThrow(/does not verify/);
  });
});
