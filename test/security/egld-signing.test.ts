/**
 * Attacks on EGLD signing that Tatum KMS does not stop (`signEgldKMSTransaction` signs any
 * `data` and takes chain id and sender from wherever it is told): tokens moved in `data`
 * while `value` says 0, a smart-contract call (a delegation, a swap, an approval) passed off
 * as a transfer, a node of another network steering the chain id, a payload naming another
 * sender, and a value that is not what it seems (negative, or more decimals than exist).
 */
import { ed25519 } from '@noble/curves/ed25519';
import { Address } from '@multiversx/sdk-core';
import { describe, expect, it } from 'vitest';
import { decodeEgld, signEgld, type EgldFill } from '../../src/chains/egld/sign.js';
import type { Ed25519Signer } from '../../src/chains/ed25519/signer.js';
import { evaluatePolicy, parsePolicy } from '../../src/signer/pipeline/policy.js';

const seed = new Uint8Array(32).fill(0x41);
const signer: Ed25519Signer = {
  publicKey: ed25519.getPublicKey(seed),
  sign: (m) => Promise.resolve(ed25519.sign(m, seed)),
};
const ME = new Address(Buffer.from(signer.publicKey)).toBech32();
const ATTACKER = new Address(Buffer.from(ed25519.getPublicKey(new Uint8Array(32).fill(0x42)))).toBech32();
const VICTIM = new Address(Buffer.from(ed25519.getPublicKey(new Uint8Array(32).fill(0x43)))).toBech32();
const SC = Address.newFromHex('00'.repeat(8) + '0500' + '22'.repeat(22)).toBech32();
const fill: EgldFill = { nonce: 1n, gasPrice: 1_000_000_000n, gasLimit: 500_000n, chainID: 'D', version: 1 };
const st = (o: Record<string, unknown>) =>
  JSON.stringify({ from: ME, to: ATTACKER, value: '0', gasPrice: 1000000000, gasLimit: 50000, ...o });
const ctx = { chain: 'EGLD', signatureIds: ['w'], spent24h: () => 0n, defaultDeny: false };

describe('EGLD signing attacks', () => {
  it('tokens moved in data while value says 0 reach the policy as an ESDT transfer, and its token limit refuses them', () => {
    const data = `ESDTTransfer@${Buffer.from('USDC-c76f1f').toString('hex')}@${(10n ** 12n).toString(16)}`;
    const decoded = decodeEgld(st({ data }), fill);
    expect(decoded.token).toMatchObject({ contract: 'USDC-c76f1f', amount: 10n ** 12n, to: ATTACKER });
    const policy = parsePolicy(
      JSON.stringify({ chains: { EGLD: { maxAmount: '1', tokens: { 'USDC-c76f1f': { maxAmount: '1' } } } } }),
      'p.json',
    );
    expect(evaluatePolicy(policy, decoded, ctx)).toMatchObject({ ok: false });
  });

  it('a smart-contract call, or a built-in function on an account, is a contract call the policy refuses unless allowed', () => {
    for (const o of [
      { to: SC, data: 'delegate' },
      { to: ME, data: `ESDTNFTTransfer@01@02@03@${Buffer.from(ATTACKER).toString('hex')}` },
    ]) {
      const decoded = decodeEgld(st(o), fill);
      expect(decoded.call?.kind).toBe('call');
      expect(evaluatePolicy(undefined, decoded, ctx)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/unknown calldata is not allowed/),
      });
    }
  });

  it('a node of another network cannot steer the chain id into the signature', async () => {
    await expect(signEgld(st({}), signer, { ...fill, chainID: '1' }, true)).rejects.toThrow(
      /chain id "1" is not a testnet's/,
    );
    await expect(signEgld(st({}), signer, { ...fill, chainID: 'T' }, false)).rejects.toThrow(/is not mainnet's/);
  });

  it('a payload naming another sender is not signed with our key (Tatum takes from as the sender)', async () => {
    await expect(signEgld(st({ from: VICTIM }), signer, fill, true)).rejects.toThrow(
      /is not the signing wallet's address/,
    );
  });

  it('a negative value or one with more decimals than EGLD has is refused, not rounded', () => {
    expect(() => decodeEgld(st({ value: '-5' }), fill)).toThrow(/negative/);
    expect(() => decodeEgld(st({ value: '1.0000000000000000001' }), fill)).toThrow(/at most 18 decimals/);
  });
});
