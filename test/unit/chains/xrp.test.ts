/**
 * XRP keys and signing (src/chains/xrp/) against the XRP Ledger's own libraries:
 * ripple-keypairs derives the same keys and addresses from both seed kinds, the signed
 * tx_blob decodes with ripple-binary-codec, and its signature verifies with
 * ripple-keypairs for the Account. Both curves are deterministic, so the blob equals the
 * one ripple-keypairs itself signs.
 */
import { decode, encodeForSigning, encode } from 'ripple-binary-codec';
import { deriveKeypair, sign as rippleSign, verify as rippleVerify } from 'ripple-keypairs';
import { describe, expect, it } from 'vitest';
import {
  formatXrpSecret,
  newXrpSecret,
  parseXrpSecret,
  xrpAddress,
  xrpPublicKey,
} from '../../../src/chains/xrp/keys.js';
import { decodeXrp, signXrp, xrpBlobMismatch, xrpTxHash } from '../../../src/chains/xrp/sign.js';
import { addressOf, ED_SEED, hostXrpKey, SECP_ADDRESS, SECP_SEED, xrpPayment } from '../../support/xrp.js';

const ED_ADDRESS = addressOf(ED_SEED);
const ISSUER = 'rUCzEr6jrEyMpjhs4wSdQdz4g8Y382NxfM';

/** What xrpl's Wallet.sign produces for this seed: ripple-keypairs over encodeForSigning. */
function rippleSigned(seed: string, payload: string): string {
  const kp = deriveKeypair(seed);
  const tx = { ...(JSON.parse(payload) as Record<string, unknown>), SigningPubKey: kp.publicKey };
  return encode({ ...tx, TxnSignature: rippleSign(encodeForSigning(tx), kp.privateKey) });
}

describe('XRP keys', () => {
  it('derives what ripple-keypairs derives, for sEd… (ed25519) and s… (secp256k1) seeds', () => {
    expect(xrpAddress(xrpPublicKey(parseXrpSecret(SECP_SEED)))).toBe(SECP_ADDRESS);
    for (const seed of [SECP_SEED, ED_SEED, 'sEdTM1uX8pu2do5XvTnutH6HsouMaM2', 'shHM53KPZ87Gwdqarm1bAmPeXg8Tn']) {
      const pub = xrpPublicKey(parseXrpSecret(seed));
      expect(Buffer.from(pub).toString('hex').toUpperCase()).toBe(deriveKeypair(seed).publicKey.replace(/^ED/, ''));
      expect(xrpAddress(pub)).toBe(addressOf(seed));
      expect(formatXrpSecret(parseXrpSecret(seed))).toBe(seed);
    }
    const fresh = formatXrpSecret(newXrpSecret(Buffer.alloc(32, 0xab)));
    expect(fresh).toMatch(/^sEd/);
    expect(xrpAddress(xrpPublicKey(parseXrpSecret(fresh)))).toBe(addressOf(fresh));
  });

  it('refuses hex keys, addresses and bad checksums with what to give instead', () => {
    expect(() => parseXrpSecret('0x' + 'ab'.repeat(32))).toThrow(/hex private key.*family seed/);
    expect(() => parseXrpSecret(SECP_ADDRESS)).toThrow(/base58 family seed starting with s/);
    expect(() => parseXrpSecret(SECP_SEED.slice(0, -1) + 'c')).toThrow(/wrong checksum/);
  });
});

describe('XRP payloads', () => {
  it.each([
    ['ed25519', ED_SEED],
    ['secp256k1', SECP_SEED],
  ])('signs a %s Payment: tx_blob decodes, verifies for Account, equals ripple-keypairs’ own', async (_curve, seed) => {
    const st = xrpPayment(addressOf(seed), { SourceTag: 1, DestinationTag: 4294967295 });
    const blob = await signXrp(st, hostXrpKey(seed));
    expect(blob).toMatch(/^[0-9A-F]+$/);
    const tx = decode(blob) as Record<string, string>;
    expect(tx).toMatchObject({
      Account: addressOf(seed),
      Amount: '1000000',
      DestinationTag: 4294967295,
      SourceTag: 1,
      Fee: '12',
      Sequence: 7,
    });
    expect(rippleVerify(encodeForSigning(tx), tx.TxnSignature!, tx.SigningPubKey!)).toBe(true);
    expect(blob).toBe(rippleSigned(seed, st));
    expect(await signXrp(st, hostXrpKey(seed))).toBe(blob);
    expect(xrpBlobMismatch(st, blob)).toBeUndefined();
    expect(xrpBlobMismatch(xrpPayment(addressOf(seed), { Amount: '2' }), blob)).toMatch(/differ/);
    expect(xrpTxHash(blob)).toMatch(/^[0-9A-F]{64}$/);
  });

  it('decodes drops as native output, issued currencies as CURRENCY:ISSUER tokens in 10^-15 units, TrustSet as no movement', () => {
    expect(decodeXrp(xrpPayment(ED_ADDRESS))).toEqual({
      chain: 'XRP',
      outputs: [{ address: 'rUCzEr6jrEyMpjhs4wSdQdz4g8Y382NxfM', amount: 1_000_000n }],
      fee: 12n,
    });
    const token = decodeXrp(xrpPayment(ED_ADDRESS, { Amount: { currency: 'USD', value: '10.5', issuer: ISSUER } }));
    expect(token.outputs).toEqual([]);
    expect(token.token).toEqual({
      contract: `USD:${ISSUER}`,
      standard: 'XRP_IOU',
      to: 'rUCzEr6jrEyMpjhs4wSdQdz4g8Y382NxfM',
      amount: 10_500_000_000_000_000n,
    });
    expect(
      decodeXrp(xrpPayment(ED_ADDRESS, { Amount: { currency: 'USD', value: '1e-15', issuer: ISSUER } })).token?.amount,
    ).toBe(1n);
    const trust = JSON.stringify({
      Account: ED_ADDRESS,
      TransactionType: 'TrustSet',
      LimitAmount: { currency: 'USD', value: '1000', issuer: ISSUER },
      Sequence: 3,
      LastLedgerSequence: 100,
      Fee: '12',
      Flags: 0,
    });
    expect(decodeXrp(trust)).toEqual({ chain: 'XRP', outputs: [], fee: 12n });
  });

  it('refuses what Tatum signs blindly: illegal amounts, missing autofill fields, other transaction types, garbage', () => {
    expect(() => decodeXrp(xrpPayment(ED_ADDRESS, { Amount: '12.5' }))).toThrow(
      /Amount must be an integer string of drops/,
    );
    const noFee = JSON.parse(xrpPayment(ED_ADDRESS)) as Record<string, unknown>;
    delete noFee.LastLedgerSequence;
    expect(() => decodeXrp(JSON.stringify(noFee))).toThrow(/LastLedgerSequence is missing/);
    expect(() =>
      decodeXrp(JSON.stringify({ ...JSON.parse(xrpPayment(ED_ADDRESS)), TransactionType: 'OfferCreate' })),
    ).toThrow(/TransactionType is not signed: .*\(got a string of 11 characters\)/);
    expect(() => decodeXrp('{"Account":')).toThrow(/not valid JSON/);
    expect(() => decodeXrp('[]')).toThrow(/must be a JSON object/);
    expect(() => decodeXrp(xrpPayment(ED_ADDRESS, { Destination: 'rNotAnAddress' }))).toThrow(
      /Destination must be a classic/,
    );
  });
});
