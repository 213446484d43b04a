/**
 * EGLD: Tatum's derivation (golden values of spec §4.3, checked with @multiversx/sdk-core),
 * the payload decoded for the policy, and a signed transaction whose signature
 * @multiversx/sdk-core's UserVerifier accepts over its own bytes-for-signing.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { Address, Transaction, TransactionComputer, UserPublicKey, UserSecretKey } from '@multiversx/sdk-core';
import { describe, expect, it } from 'vitest';
import { chainKit } from '../../../src/chains/kit.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import { decodeEgld, egldSignedMismatch, egldTxHash, signEgld, type EgldFill } from '../../../src/chains/egld/sign.js';
import type { Ed25519Signer } from '../../../src/chains/ed25519/signer.js';

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const seed = new Uint8Array(32).fill(7);
const signer: Ed25519Signer = {
  publicKey: ed25519.getPublicKey(seed),
  sign: (m) => Promise.resolve(ed25519.sign(m, seed)),
};
const ME = new Address(Buffer.from(signer.publicKey)).toBech32();
const TO = new Address(Buffer.from(ed25519.getPublicKey(new Uint8Array(32).fill(8)))).toBech32();
const SC = Address.newFromHex('00'.repeat(8) + '0500' + '11'.repeat(22)).toBech32();
const fill: EgldFill = { nonce: 12n, gasPrice: 1_000_000_000n, gasLimit: 50_000n, chainID: 'D', version: 1 };

describe('EGLD keys', () => {
  it("abandon…about index 0 on m/44'/508'/0'/0'/0' is Tatum's golden key and address; sdk-core agrees; testnet uses m/44'/1'/0'/0'/i'", () => {
    const kit = chainKit('EGLD');
    const s = mnemonicToSeed(Buffer.from(ABANDON));
    const k0 = kit.privateKeyFromSeed(s, 0, false);
    expect(kit.formatPrivateKey(k0, false)).toBe('0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b');
    const addr = kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(k0)), false);
    expect(addr).toBe('erd1sqhjrtmsn5yjk6w85099p8v0ly0g8z9pxeqe5dvu5rlf2n7vq3vqytny9g');
    expect(UserSecretKey.fromString(kit.formatPrivateKey(k0, false)).generatePublicKey().toAddress().toBech32()).toBe(
      addr,
    );
    expect(Buffer.from(kit.privateKeyFromSeed(s, 0, true))).not.toEqual(Buffer.from(k0));
    expect(kit.mnemonicPublicData!(s, false)).toEqual({});
    expect(Buffer.from(kit.parsePrivateKey('0x' + '0e'.repeat(32), false))).toEqual(Buffer.alloc(32, 0x0e));
    expect(() => kit.parsePrivateKey(addr, false)).toThrow(/64 hex digits/);
  });
});

describe('EGLD payloads', () => {
  const st = (o: Record<string, unknown>) =>
    JSON.stringify({ from: ME, to: TO, value: '1.5', gasPrice: 1000000000, gasLimit: 50000, ...o });

  it('decodes EGLD (× 10^18), the fee bound (gas limit × price), an ESDT transfer as a token, a contract call; a note moves nothing', () => {
    expect(decodeEgld(st({}), fill)).toEqual({
      chain: 'EGLD',
      outputs: [{ address: TO, amount: 1_500_000_000_000_000_000n }],
      fee: 50_000n * 1_000_000_000n,
    });
    const esdt = decodeEgld(
      st({ value: '0', data: `ESDTTransfer@${Buffer.from('USDC-c76f1f').toString('hex')}@0f4240` }),
      fill,
    );
    expect(esdt.token).toEqual({ contract: 'USDC-c76f1f', standard: 'ESDT', to: TO, amount: 1_000_000n });
    expect(decodeEgld(st({ to: SC, data: 'stake' }), fill).call).toMatchObject({ kind: 'call', to: SC, dataLength: 5 });
    expect(decodeEgld(st({ data: 'ESDTNFTTransfer@01@02' }), fill).call?.kind).toBe('call');
    expect(decodeEgld(st({ data: 'thanks for lunch' }), fill).call).toBeUndefined();
    expect(() => decodeEgld(st({ value: '-1' }), fill)).toThrow(/negative/);
    expect(() => decodeEgld(st({ value: '0.0000000000000000001' }), fill)).toThrow(/at most 18 decimals/);
    expect(() => decodeEgld(st({ nonce: 3 }), fill)).toThrow(/unknown field "nonce"/);
  });

  it("signs the node's nonce, gas price, chain id and version with the cost estimate as gas limit; sdk-core verifies; refuses a foreign from and another network", async () => {
    const raw = await signEgld(st({ data: 'hi' }), signer, fill, true);
    const plain = JSON.parse(raw) as Record<string, unknown>;
    expect(plain).toMatchObject({
      nonce: 12,
      value: '1500000000000000000',
      receiver: TO,
      sender: ME,
      gasPrice: 1000000000,
      gasLimit: 50000,
      data: 'aGk=',
      chainID: 'D',
      version: 1,
    });
    const tx = Transaction.newFromPlainObject(plain as unknown as Parameters<typeof Transaction.newFromPlainObject>[0]);
    const bytes = new TransactionComputer().computeBytesForSigning(tx);
    expect(await new UserPublicKey(Buffer.from(signer.publicKey)).verify(bytes, tx.signature)).toBe(true);
    expect(egldTxHash(raw)).toMatch(/^[0-9a-f]{64}$/);
    expect(egldSignedMismatch(st({ data: 'hi' }), raw)).toBeUndefined();
    expect(egldSignedMismatch(st({ data: 'hi', value: '2' }), raw)).toBe('the value differs');
    expect(await signEgld(st({ data: 'hi' }), signer, fill, true)).toBe(raw);
    await expect(signEgld(st({ from: TO }), signer, fill, true)).rejects.toThrow(
      /from erd1\w+ is not the signing wallet's address/,
    );
    await expect(signEgld(st({}), signer, { ...fill, chainID: '1' }, true)).rejects.toThrow(
      /chain id "1" is not a testnet's/,
    );
    await expect(signEgld(st({}), signer, fill, false)).rejects.toThrow(/chain id "D" is not mainnet's/);
  });
});

describe('a journaled signed EGLD transaction read back', () => {
  it('names the field that is not what signEgld wrote, never its value', () => {
    const planted = JSON.stringify({
      nonce: 1,
      value: 'zoo zoo zoo',
      receiver: 'r',
      sender: 's',
      gasPrice: 1,
      gasLimit: 1,
      chainID: 'D',
      version: 2,
      signature: 'ab'.repeat(64),
    });
    expect(egldSignedMismatch(JSON.stringify({ to: TO, value: '1' }), planted)).toMatch(
      /^it is not one hardkms wrote \(value: /,
    );
    expect(egldSignedMismatch(JSON.stringify({ to: TO, value: '1' }), planted)).not.toContain('zoo');
    expect(egldSignedMismatch(JSON.stringify({ to: TO, value: '1' }), 'zoo{')).toBe('it is not valid JSON');
    expect(() => egldTxHash('null')).toThrow(
      /^The signed EGLD transaction: it is not one hardkms wrote \(expected a signed EGLD transaction/,
    );
  });
});
