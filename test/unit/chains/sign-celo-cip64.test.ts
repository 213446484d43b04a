/**
 * CELO with feeCurrency (issue 11 item 7): signed as CIP-64 (type 0x7b) and checked by a
 * decoder written from the CIP-64 specification (test/support/cip64.ts), not from hardkms's encoder.
 */
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { hostDigestSigner } from '../../../src/chains/digest-signer.js';
import { decodeEvm, signEvm } from '../../../src/chains/evm/sign.js';
import { checkSignedMatchesPayload } from '../../../src/signer/pipeline/rebroadcast-check.js';
import { decodeCip64 } from '../../support/cip64.js';

const KEY = '0x' + '5a'.repeat(32);
const wallet = new Wallet(KEY);
const CUSD = '0x765DE816845861e75A25fCA122bb6898B8B1282a';
const TO = '0x1111111111111111111111111111111111111111';
const CELO_MAINNET = 42220n;
const key = () => hostDigestSigner(Uint8Array.from(Buffer.from(KEY.slice(2), 'hex')));

describe('CELO feeCurrency payloads: CIP-64', () => {
  it("Tatum's legacy-fee shape (gasPrice + feeCurrency) becomes CIP-64 with both caps at gasPrice, from the wallet", async () => {
    const payload = JSON.stringify({
      from: 0,
      to: TO,
      value: '1000',
      gasPrice: '5000000000',
      gas: 90000,
      nonce: 7,
      feeCurrency: CUSD,
      chainId: 42220,
    });
    const raw = await signEvm(payload, [key()], { chain: 'CELO', chainId: CELO_MAINNET });
    expect(decodeCip64(raw)).toEqual({
      chainId: 42220n,
      nonce: 7n,
      maxPriorityFeePerGas: 5_000_000_000n,
      maxFeePerGas: 5_000_000_000n,
      gas: 90000n,
      to: TO,
      value: 1000n,
      data: '0x',
      accessList: [],
      feeCurrency: CUSD,
      from: wallet.address,
    });
    // The journaled raw transaction matches its payload (re-broadcast check), another fee currency does not.
    expect(() =>
      checkSignedMatchesPayload(
        { id: 'a'.repeat(24), chain: 'CELO', serializedTransaction: payload, hashes: [] },
        raw,
        () => CELO_MAINNET,
      ),
    ).not.toThrow();
    const other = payload.replace(CUSD, '0xD8763CBa276a3738E6DE85b4b3bF5FDed6D6cA73');
    expect(() =>
      checkSignedMatchesPayload(
        { id: 'a'.repeat(24), chain: 'CELO', serializedTransaction: other, hashes: [] },
        raw,
        () => CELO_MAINNET,
      ),
    ).toThrow(/fee currency differs/);
  });

  it('EIP-1559 fee fields with feeCurrency, and an ERC-20 transfer paid in cEUR, decoded for the policy', async () => {
    const data =
      '0xa9059cbb' + '0'.repeat(24) + TO.slice(2).toLowerCase() + (10n ** 18n).toString(16).padStart(64, '0');
    const cEUR = '0xD8763CBa276a3738E6DE85b4b3bF5FDed6D6cA73';
    const payload = JSON.stringify({
      to: CUSD,
      data,
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
      gas: 120000,
      nonce: 0,
      feeCurrency: cEUR,
    });
    const d = decodeCip64(await signEvm(payload, [key()], { chain: 'CELO', chainId: 44787n }));
    expect(d).toMatchObject({
      chainId: 44787n,
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      feeCurrency: cEUR,
      from: wallet.address,
      nonce: 0n,
    });
    expect(decodeEvm(payload, { chain: 'CELO', chainId: 44787n })).toMatchObject({
      token: { contract: CUSD, standard: 'ERC20', amount: 10n ** 18n },
      fee: 120000n * 30_000_000_000n,
    });
  });

  it('still refuses gateway fees (CIP-42, gone from the network) and feeCurrency on other chains', async () => {
    const gw = JSON.stringify({
      to: TO,
      value: '1',
      gasPrice: '1',
      gas: 21000,
      nonce: 0,
      feeCurrency: CUSD,
      gatewayFee: '100',
      gatewayFeeRecipient: TO,
    });
    await expect(signEvm(gw, [key()], { chain: 'CELO', chainId: CELO_MAINNET })).rejects.toThrow(
      /gateway fees \(CIP-42\)/,
    );
    const eth = JSON.stringify({ to: TO, value: '1', gasPrice: '1', gas: 21000, nonce: 0, feeCurrency: CUSD });
    await expect(signEvm(eth, [key()], { chain: 'ETH', chainId: 1n })).rejects.toThrow(/feeCurrency is set/);
  });
});
