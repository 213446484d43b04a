import { describe, expect, it } from 'vitest';
import { pinnedChainId } from '../../../src/signer/pipeline/chain-ids.js';
import { checkTransport, gateWeaknesses, mainnetReasons } from '../../../src/signer/service.js';

const gate = (over: Record<string, unknown> = {}) => ({
  provider: 'yubikey',
  driver: 'ykman',
  threshold: 2,
  allowEmulated: false,
  allowSingleOperator: false,
  credentials: [{ driver: 'ykman' }, { driver: 'ykman' }, { driver: 'ykman' }],
  ...over,
});

describe('daemon mainnet rules (src/signer/service.ts)', () => {
  it('refuses an emulated or 1-of-N gate on mainnet unless init accepted it; a run-time flag does not', () => {
    const base = { testnet: false, testnetOnly: false, externalUrl: 'https://approve.example', override: true };
    expect(mainnetReasons({ ...base, seal: gate() })).toEqual([]);
    expect(() =>
      mainnetReasons({
        ...base,
        seal: gate({ driver: 'emulator', credentials: [{ driver: 'emulator' }, { driver: 'emulator' }] }),
      }),
    ).toThrow(/emulated keys/);
    expect(() => mainnetReasons({ ...base, seal: gate({ threshold: 1 }) })).toThrow(/one operator/);
    expect(mainnetReasons({ ...base, seal: gate({ threshold: 1, allowSingleOperator: true }) })).toEqual([]);
    expect(gateWeaknesses(gate({ credentials: [{ driver: 'ykman' }, { driver: 'emulator' }] }))).toHaveLength(1);
    // read conservatively: a record without credentials counts as emulated
    expect(gateWeaknesses(gate({ credentials: undefined }))).toHaveLength(1);
    expect(mainnetReasons({ ...base, testnet: true, seal: gate({ driver: 'emulator' }) })).toEqual([]);
  });

  it('no approver / password seal: refused on mainnet unless the loud flag is given', () => {
    const seal = { provider: 'password' };
    expect(() =>
      mainnetReasons({ testnet: false, testnetOnly: false, seal, externalUrl: undefined, override: false }),
    ).toThrow(/no four-eyes approver.*password/);
    expect(
      mainnetReasons({ testnet: false, testnetOnly: false, seal, externalUrl: undefined, override: true }),
    ).toHaveLength(2);
  });

  it('plain http on mainnet needs --allow-insecure-http; testnet does not', () => {
    const eps = [
      { what: 'Tatum API', url: 'http://127.0.0.1:9' },
      { what: 'approver', url: 'https://approve.example' },
    ];
    expect(() => checkTransport(false, false, eps)).toThrow(/plain http on mainnet: Tatum API/);
    expect(checkTransport(false, true, eps)).toEqual([eps[0]]);
    expect(checkTransport(true, false, eps)).toEqual([eps[0]]);
    expect(checkTransport(false, false, [eps[1]!])).toEqual([]);
  });

  it('HARDKMS_CHAIN_ID_<CHAIN> is refused on mainnet', () => {
    expect(() => pinnedChainId('ETH', false, { HARDKMS_CHAIN_ID_ETH: '31337' })).toThrow(/refused on mainnet/);
    expect(pinnedChainId('ETH', false, {})).toBe(1n);
  });
});
