import { describe, expect, it } from 'vitest';
import { pinnedChainId, selectChains, SIGNABLE_CHAINS } from '../../../src/signer/chain-ids.js';

describe('pinned chain ids', () => {
  it('pins mainnet and testnet ids per chain', () => {
    expect(pinnedChainId('ETH', false, {})).toBe(1n);
    expect(pinnedChainId('ETH', true, {})).toBe(11_155_111n);
    expect(pinnedChainId('BSC', true, {})).toBe(97n);
    expect(pinnedChainId('MATIC', true, {})).toBe(80_002n);
    expect(pinnedChainId('CELO', false, {})).toBe(42_220n);
    expect(pinnedChainId('KLAY', true, {})).toBe(1_001n);
    expect(pinnedChainId('ONE', false, {})).toBe(1_666_600_000n);
    expect(pinnedChainId('XDC', true, {})).toBe(51n);
    expect(pinnedChainId('KCS', false, {})).toBe(321n);
  });

  it('HARDKMS_CHAIN_ID_<CHAIN> overrides the pin, decimal or hex; garbage is refused', () => {
    expect(pinnedChainId('ETH', true, { HARDKMS_CHAIN_ID_ETH: '31337' })).toBe(31337n);
    expect(pinnedChainId('ETH', true, { HARDKMS_CHAIN_ID_ETH: '0x7a69' })).toBe(31337n);
    expect(pinnedChainId('BSC', true, { HARDKMS_CHAIN_ID_ETH: '31337' })).toBe(97n);
    expect(() => pinnedChainId('ETH', true, { HARDKMS_CHAIN_ID_ETH: '-1' })).toThrow(/not a chain id/);
    expect(() => pinnedChainId('ETH', true, { HARDKMS_CHAIN_ID_ETH: '0' })).toThrow(/not a chain id/);
  });
});

describe('--chain selection', () => {
  it("defaults to Tatum's list without the chains hardkms does not sign", () => {
    const s = selectChains(undefined);
    expect(s.chains).toEqual([...SIGNABLE_CHAINS]);
    expect(s.skipped).toEqual(['VET', 'XRP', 'XLM', 'SOL', 'BNB', 'FLOW', 'EGLD', 'ADA', 'ALGO']);
  });

  it('keeps the order asked, skips unsigned Tatum chains, refuses unknown codes', () => {
    expect(selectChains('LTC,ETH,SOL,LTC')).toEqual({ chains: ['LTC', 'ETH'], skipped: ['SOL'] });
    expect(() => selectChains('eth')).toThrow(/not a Tatum chain code/);
    expect(() => selectChains('SOL')).toThrow(/None of the chains/);
    expect(() => selectChains(' , ')).toThrow(/lists no chain/);
  });
});
