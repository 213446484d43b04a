/**
 * ALGO decode and sign (src/chains/algo/sign.ts) against algosdk: payloads in algosdk
 * 1.16's JSON shape, the signed msgpack decoded by algosdk and its signature verified for
 * the sender; bytes equal algosdk's own signTxn (ed25519 is deterministic). Tatum's
 * per-byte fee reading for flatFee: false is reproduced and shown to the policy.
 */
import { ed25519 } from '@noble/curves/ed25519';
import algosdk from 'algosdk';
import { describe, expect, it } from 'vitest';
import { algoSignedMismatch, decodeAlgo, signAlgo } from '../../../src/chains/algo/sign.js';
import { algoPayload } from '../../support/algo.js';
import { hostSigner } from '../../support/xlm.js';

const seed = new Uint8Array(32).fill(5);
const pub = ed25519.getPublicKey(seed);
const ME = algosdk.encodeAddress(pub);
const DEST = algosdk.encodeAddress(ed25519.getPublicKey(new Uint8Array(32).fill(6)));
const sk = Uint8Array.from([...seed, ...pub]);

function verify(hex: string): algosdk.SignedTransaction {
  const stx = algosdk.decodeSignedTransaction(Uint8Array.from(Buffer.from(hex, 'hex')));
  expect(stx.sgnr).toBeUndefined();
  expect(
    ed25519.verify(stx.sig!, stx.txn.bytesToSign(), algosdk.decodeAddress(stx.txn.sender.toString()).publicKey),
  ).toBe(true);
  return stx;
}

describe('ALGO payloads', () => {
  it('signs a payment (flatFee): algosdk decodes it, the signature verifies for the sender, bytes equal algosdk signTxn', async () => {
    const st = algoPayload({ from: ME, to: DEST, amount: 1_500_000, note: Buffer.from('order 7') });
    expect(decodeAlgo(st, true)).toEqual({
      chain: 'ALGO',
      outputs: [{ address: DEST, amount: 1_500_000n }],
      fee: 1000n,
    });
    const hex = await signAlgo(st, [hostSigner(seed)], true);
    expect(hex).toMatch(/^[0-9a-f]+$/);
    const stx = verify(hex);
    expect(stx.txn.sender.toString()).toBe(ME);
    expect(stx.txn.payment?.receiver.toString()).toBe(DEST);
    expect(stx.txn.payment?.amount).toBe(1_500_000n);
    expect(stx.txn.fee).toBe(1000n);
    expect(stx.txn.genesisID).toBe('testnet-v1.0');
    expect(Buffer.from(stx.txn.note).toString()).toBe('order 7');
    expect(Buffer.from(stx.txn.signTxn(sk)).toString('hex')).toBe(hex);
    expect(await signAlgo(st, [hostSigner(seed)], true)).toBe(hex);
    expect(algoSignedMismatch(st, hex)).toBeUndefined();
    expect(algoSignedMismatch(algoPayload({ from: ME, to: DEST, amount: 2 }), hex)).toMatch(/differs/);
  });

  it("an ASA transfer with flatFee: false pays fee × size, exactly as Tatum's algosdk 1.16 reading; decoded as an ASA token", async () => {
    const st = algoPayload({ from: ME, to: DEST, type: 'axfer', amount: 250, assetIndex: 31566704, fee: 1000 });
    const d = decodeAlgo(st, true);
    expect(d.token).toEqual({ contract: '31566704', standard: 'ASA', to: DEST, amount: 250n });
    const stx = verify(await signAlgo(st, [hostSigner(seed)], true));
    // 1000 µALGO times the size algosdk 1.16 estimates for the signed transaction while its fee field is still 1000.
    const asGiven = algosdk.makeAssetTransferTxnWithSuggestedParamsFromObject({
      sender: ME,
      receiver: DEST,
      amount: 250,
      assetIndex: 31566704,
      suggestedParams: {
        fee: 1000,
        flatFee: true,
        minFee: 1000,
        firstValid: 30_000_000,
        lastValid: 30_001_000,
        genesisID: 'testnet-v1.0',
        genesisHash: stx.txn.genesisHash!,
      },
    });
    // estimateSize is private in algosdk 3's types: the size of the signed form is toByte() + 75 (a signature and its keys).
    expect(stx.txn.fee).toBe(BigInt(asGiven.toByte().length + 75) * 1000n);
    expect(stx.txn.fee).toBeGreaterThan(200_000n);
    expect(d.fee).toBe(stx.txn.fee);
    expect(stx.txn.assetTransfer?.assetIndex).toBe(31566704n);
    // An opt-in (0 to oneself) moves nothing.
    expect(decodeAlgo(algoPayload({ from: ME, to: ME, type: 'axfer', amount: 0 }), true).token).toBeUndefined();
  });

  it('mainnet daemon: mainnet genesis only; a testnet payload is refused (and vice versa)', async () => {
    const main = algoPayload({ from: ME, to: DEST, testnet: false });
    expect(verify(await signAlgo(main, [hostSigner(seed)], false)).txn.genesisID).toBe('mainnet-v1.0');
    await expect(signAlgo(main, [hostSigner(seed)], true)).rejects.toThrow(
      /genesisID is not testnet-v1.0 \(got a string of 12 characters\)/,
    );
    expect(() => decodeAlgo(algoPayload({ from: ME, to: DEST }), false)).toThrow(
      /genesisID is not mainnet-v1.0 \(got a string of 12 characters\)/,
    );
  });

  it('refuses garbage and types Tatum does not build', () => {
    expect(() => decodeAlgo('{', true)).toThrow(/not valid JSON/);
    expect(() => decodeAlgo(algoPayload({ from: ME, to: DEST, extra: { type: 'keyreg' } }), true)).toThrow(
      /type is not signed: hardkms signs pay and axfer.*\(got a string of 6 characters\)/,
    );
    expect(() => decodeAlgo(algoPayload({ from: ME, to: DEST, extra: { amount: -1 } }), true)).toThrow(
      /amount must be a non-negative integer/,
    );
    expect(() =>
      decodeAlgo(algoPayload({ from: ME, to: DEST, extra: { from: { publicKey: { 0: 1 } } } }), true),
    ).toThrow(/from.publicKey must be 32 bytes/);
  });
});
