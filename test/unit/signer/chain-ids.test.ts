import { describe, expect, it } from 'vitest';
import { pinnedChainId, selectChains, SIGNABLE_CHAINS } from '../../../src/signer/pipeline/chain-ids.js';
import { chainSupportLines, daemonSupport, notSignedReport } from '../../../src/signer/source/chain-support.js';
import { TATUM_CHAINS } from '../../../src/signer/source/tatum-paths.js';

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
  it("defaults to Tatum's whole list, in Tatum's order; the chains hardkms does not sign are polled to be reported", () => {
    const s = selectChains(undefined);
    expect(s.polled).toEqual([...TATUM_CHAINS]);
    expect(s.chains).toEqual([...SIGNABLE_CHAINS]);
    expect(s.reported).toEqual(['BNB', 'FLOW']);
  });

  it('keeps the order asked, de-duplicates, polls unsigned Tatum chains, refuses unknown codes', () => {
    expect(selectChains('LTC,ETH,FLOW,LTC')).toEqual({
      polled: ['LTC', 'ETH', 'FLOW'],
      chains: ['LTC', 'ETH'],
      reported: ['FLOW'],
    });
    expect(selectChains('FLOW')).toEqual({ polled: ['FLOW'], chains: [], reported: ['FLOW'] });
    expect(() => selectChains('eth')).toThrow(/not a Tatum chain code/);
    expect(() => selectChains(' , ')).toThrow(/lists no chain/);
  });
});

describe('chain support table', () => {
  it('names each unsigned chain in its error-batch text; BNB is reported as sunset', () => {
    expect(daemonSupport('ETH')).toBe('signed');
    expect(daemonSupport('SOL')).toBe('signed');
    expect(daemonSupport('FLOW')).toBe('reported');
    expect(daemonSupport('BNB')).toBe('sunset');
    expect(notSignedReport('FLOW')).toMatch(/^TX_CHAIN_NOT_SIGNED: hardkms does not sign FLOW transactions/);
    expect(notSignedReport('BNB')).toMatch(/^TX_CHAIN_UNSUPPORTED: BNB \(BNB Beacon Chain\) has been shut down/);
  });

  it('every Tatum chain is in exactly one daemon line of the listing', () => {
    const lines = chainSupportLines();
    const daemonLines = lines.filter((l) => /^Chains (signed|polled|reported)/.test(l));
    const listed = daemonLines.flatMap((l) => l.slice(l.indexOf(': ') + 2).split(', '));
    expect([...listed].sort()).toEqual([...TATUM_CHAINS].sort());
  });
});
