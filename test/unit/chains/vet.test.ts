/**
 * VET decode and sign (src/chains/vet/sign.ts) against thor-devkit: the signed RLP decodes,
 * its origin (recovered from the signature over blake2b256 of the body) is the wallet, and
 * chainTag, blockRef, gas, nonce are as filled. VIP-180 transfers reach the policy as tokens.
 */
import { Transaction } from 'thor-devkit';
import { computeAddress, hexlify } from 'ethers';
import { describe, expect, it } from 'vitest';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import { decodeVet, signVet, vetFee, vetIntrinsicGas, vetSignedMismatch } from '../../../src/chains/vet/sign.js';
import { localTxHash } from '../../../src/signer/sinks/local-tx-hash.js';

const KEY = Uint8Array.from(Buffer.from('307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6c0', 'hex'));
const signer = hostDigestSigner(KEY);
const ME = computeAddress(hexlify(signer.publicKey));
const TO = '0x1111111111111111111111111111111111111111';
const FILL = { gas: 21000n, blockRef: '0x00ab12cd00ab12cd', nonce: 0x1234n };

describe('VET payloads', () => {
  it('signs {from: 0, to, value, gas}: thor-devkit recovers the wallet as origin; gas and blockRef are the filled ones', async () => {
    const st = JSON.stringify({ from: 0, to: TO, value: '1000000000000000000', gas: '50000' });
    const raw = await signVet(st, [signer], true, FILL);
    const tx = Transaction.decode(Buffer.from(raw.slice(2), 'hex'));
    expect(tx.origin).toBe(ME.toLowerCase());
    expect(tx.body).toMatchObject({
      chainTag: 0x27,
      blockRef: FILL.blockRef,
      expiration: 720,
      gasPriceCoef: 0,
      gas: 21000,
      dependsOn: null,
      nonce: 4660,
    });
    expect(tx.body.clauses).toHaveLength(1);
    expect(tx.body.clauses[0]).toMatchObject({ to: TO, data: '0x' });
    expect(BigInt(tx.body.clauses[0]!.value)).toBe(10n ** 18n);
    expect(await signVet(st, [signer], true, FILL)).toBe(raw); // host key: RFC 6979
    expect(vetSignedMismatch(st, raw)).toBeUndefined();
    // The id journaled when Tatum answers none is VeChain's, not keccak of the RLP.
    expect(localTxHash('VET', raw)).toBe(tx.id);
    expect(vetSignedMismatch(JSON.stringify({ from: 0, to: TO, value: '1' }), raw)).toBe('value differs');
    expect(decodeVet(st, true, FILL)).toEqual({
      chain: 'VET',
      outputs: [{ address: TO, amount: 10n ** 18n }],
      fee: 21000n * 10n ** 13n,
    });
  });

  it("honours the payload's nonce, expiration, gasPriceCoef and blockRef; mainnet chainTag 0x4a", async () => {
    const st = JSON.stringify({
      from: ME,
      to: TO,
      value: '1',
      nonce: 7,
      expiration: 32,
      gasPriceCoef: 128,
      blockRef: '0x0000000000000001',
    });
    const tx = Transaction.decode(Buffer.from((await signVet(st, [signer], false, FILL)).slice(2), 'hex'));
    expect(tx.body).toMatchObject({
      chainTag: 0x4a,
      nonce: 7,
      expiration: 32,
      gasPriceCoef: 128,
      blockRef: '0x0000000000000001',
    });
    expect(vetFee(21000n, 128)).toBe((21000n * 10n ** 13n * 383n) / 255n);
  });

  it('decodes VIP-180 transfers as tokens and other calldata as calls; intrinsic gas counts the data', () => {
    const data = '0xa9059cbb' + '00'.repeat(12) + '22'.repeat(20) + 5n.toString(16).padStart(64, '0');
    const d = decodeVet(JSON.stringify({ from: 0, to: TO, value: '0', data }), true);
    expect(d.token).toEqual({
      contract: TO,
      standard: 'VIP180',
      to: '0x2222222222222222222222222222222222222222',
      amount: 5n,
    });
    expect(d.outputs).toEqual([]);
    expect(decodeVet(JSON.stringify({ to: TO, value: '0', data: '0x12345678' }), true).call).toMatchObject({
      kind: 'call',
      selector: '0x12345678',
    });
    expect(vetIntrinsicGas({ to: TO, value: 0n, data })).toBeGreaterThan(21000n);
  });

  it('refuses another network, another sender, deployments, dependsOn and garbage', async () => {
    await expect(signVet(JSON.stringify({ to: TO, value: '1', chainTag: 0x4a }), [signer], true, FILL)).rejects.toThrow(
      /chainTag is not this testnet daemon's 0x27/,
    );
    await expect(signVet(JSON.stringify({ from: TO, to: TO, value: '1' }), [signer], true, FILL)).rejects.toThrow(
      /from 0x1111.* is not the signing wallet's address/,
    );
    expect(() => decodeVet(JSON.stringify({ value: '1', data: '0x60' }), true)).toThrow(
      /contract deployments are not signed/,
    );
    expect(() => decodeVet(JSON.stringify({ to: TO, value: '1', dependsOn: '0x' + '00'.repeat(32) }), true)).toThrow(
      /dependsOn is set/,
    );
    expect(() => decodeVet('{"to":', true)).toThrow(/not valid JSON/);
    expect(() => decodeVet(JSON.stringify({ to: TO, value: '1.5' }), true)).toThrow(
      /value must be a non-negative integer/,
    );
  });
});
