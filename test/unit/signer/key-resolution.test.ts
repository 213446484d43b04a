import { secp256k1 } from '@noble/curves/secp256k1';
import { describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../../src/chains/registry.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import type { WalletEntry } from '../../../src/vault/entries.js';
import { childPublicKeyFromXpub, resolveKeys } from '../../../src/signer/pipeline/key-resolution.js';
import type { PendingTransaction } from '../../../src/signer/source/pending.js';

const MNEMONIC = Buffer.from(
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
);
const seed = mnemonicToSeed(MNEMONIC);

function mnemonicEntry(id: string, chain: string, testnet = true): WalletEntry {
  const xpub = getChainAdapter(chain).xpubFromSeed(seed, testnet);
  return {
    signatureId: id,
    chain,
    testnet,
    kind: 'mnemonic',
    publicData: { xpub },
    wrappedSecret: Buffer.alloc(0),
    mechanism: 'x',
    created: '',
  };
}
function keyEntry(id: string, chain: string, n: number, testnet = true): WalletEntry {
  const pk = new Uint8Array(32).fill(n);
  const publicKey = Buffer.from(secp256k1.getPublicKey(pk, true)).toString('hex');
  return {
    signatureId: id,
    chain,
    testnet,
    kind: 'privateKey',
    publicData: { publicKey },
    wrappedSecret: Buffer.alloc(0),
    mechanism: 'x',
    created: '',
  };
}
const pub = (chain: string, index: number, testnet = true) =>
  Buffer.from(secp256k1.getPublicKey(getChainAdapter(chain).privateKeyFromSeed(seed, index, testnet), true)).toString(
    'hex',
  );
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const entries = new Map<string, WalletEntry>([
  ['m-eth', mnemonicEntry('m-eth', 'ETH')],
  ['k-eth', keyEntry('k-eth', 'ETH', 7)],
  ['m-ltc', mnemonicEntry('m-ltc', 'LTC')],
  ['k-ltc', keyEntry('k-ltc', 'LTC', 9)],
  ['k-main', keyEntry('k-main', 'LTC', 5, false)],
  ['m-bch', mnemonicEntry('m-bch', 'BCH')],
]);
const lookup = (id: string) => entries.get(id);
const tx = (chain: PendingTransaction['chain'], extra: Partial<PendingTransaction>): PendingTransaction => ({
  id: 'a'.repeat(24),
  chain,
  serializedTransaction: '{}',
  hashes: [],
  ...extra,
});

describe('key resolution (spec §3.1)', () => {
  it('derives a child public key from xpubs of any version without a secret', () => {
    for (const chain of ['ETH', 'LTC', 'BTC', 'BCH', 'TRON']) {
      expect(hex(childPublicKeyFromXpub(getChainAdapter(chain).xpubFromSeed(seed, true), 3))).toBe(pub(chain, 3));
    }
  });

  it('EVM: first wallet of hashes; mnemonic at the top-level index, private key as is', () => {
    const r = resolveKeys(tx('ETH', { hashes: ['m-eth', 'k-eth'], index: 4 }), 'evm', true, lookup);
    expect(r.refs.map((k) => [k.entry.signatureId, k.index, hex(k.publicKey)])).toEqual([['m-eth', 4, pub('ETH', 4)]]);
    expect(resolveKeys(tx('ETH', { hashes: ['k-eth'] }), 'evm', true, lookup).refs[0]?.entry.signatureId).toBe('k-eth');
    expect(() => resolveKeys(tx('ETH', { hashes: ['m-eth'] }), 'evm', true, lookup)).toThrow(
      /mnemonic wallet but the transaction has no index/,
    );
    const viaSig = resolveKeys(tx('ETH', { signatures: [{ id: 'm-eth', index: 2 }] }), 'evm', true, lookup);
    expect(viaSig.refs[0]?.index).toBe(2);
  });

  it("a top-level index derives on the pending transaction's chain (§3.1 rule 3): MATIC naming an ETH mnemonic wallet uses m/44'/966'", () => {
    const ethMain = mnemonicEntry('m-eth-main', 'ETH', false);
    const look = (id: string) => (id === 'm-eth-main' ? ethMain : undefined);
    const asked: [string, string, number][] = [];
    const derivePublicKey = (e: WalletEntry, chain: string, index: number) => {
      asked.push([e.signatureId, chain, index]);
      return secp256k1.getPublicKey(getChainAdapter(chain).privateKeyFromSeed(seed, index, e.testnet), true);
    };
    const r = resolveKeys(tx('MATIC', { hashes: ['m-eth-main'], index: 3 }), 'evm', false, look, { derivePublicKey });
    expect(asked).toEqual([['m-eth-main', 'MATIC', 3]]);
    expect(r.refs[0]).toMatchObject({ index: 3, deriveChain: 'MATIC' });
    expect(hex(r.refs[0]!.publicKey)).toBe(pub('MATIC', 3, false));
    expect(hex(r.refs[0]!.publicKey)).not.toBe(pub('ETH', 3, false));
    // BSC shares ETH's mainnet path: the stored xpub gives the key, no secret is touched.
    const bsc = resolveKeys(tx('BSC', { hashes: ['m-eth-main'], index: 3 }), 'evm', false, look, { derivePublicKey });
    expect(asked).toHaveLength(1);
    expect(hex(bsc.refs[0]!.publicKey)).toBe(pub('ETH', 3, false));
    // Top-level index wins over a signatures[] index, and still on the transaction's chain.
    const viaSig = resolveKeys(
      tx('MATIC', { signatures: [{ id: 'm-eth-main', index: 9 }], index: 2 }),
      'evm',
      false,
      look,
      { derivePublicKey },
    );
    expect(viaSig.refs[0]).toMatchObject({ index: 2, deriveChain: 'MATIC' });
  });

  it("signatures[].index null skips that mnemonic wallet with a note, and signatures keep the entry's own chain", () => {
    const r = resolveKeys(
      tx('LTC', { hashes: ['k-ltc'], signatures: [{ id: 'm-ltc', index: null }] }),
      'utxo',
      true,
      lookup,
    );
    expect(r.refs.map((k) => k.entry.signatureId)).toEqual(['k-ltc']);
    expect(r.notes.join()).toContain('m-ltc');
    const evm = resolveKeys(
      tx('ETH', {
        signatures: [
          { id: 'm-eth', index: null },
          { id: 'k-eth', index: null },
        ],
      }),
      'evm',
      true,
      lookup,
    );
    expect(evm.refs[0]?.entry.signatureId).toBe('k-eth');
    const own = resolveKeys(tx('LTC', { signatures: [{ id: 'm-bch', index: 1 }] }), 'utxo', true, lookup);
    expect(own.refs[0]?.deriveChain).toBeUndefined();
    expect(hex(own.refs[0]!.publicKey)).toBe(pub('BCH', 1));
  });

  it('UTXO: private keys of hashes plus signatures[{id,index}]; mnemonic hashes alone name the fix', () => {
    const r = resolveKeys(
      tx('LTC', { hashes: ['k-ltc', 'm-ltc'], signatures: [{ id: 'm-ltc', index: 1 }] }),
      'utxo',
      true,
      lookup,
    );
    expect(r.refs.map((k) => k.entry.signatureId)).toEqual(['k-ltc', 'm-ltc']);
    expect(hex(r.refs[1]!.publicKey)).toBe(pub('LTC', 1));
    expect(r.signatureIds).toEqual(['k-ltc', 'm-ltc']);
    expect(() => resolveKeys(tx('LTC', { hashes: ['m-ltc'] }), 'utxo', true, lookup)).toThrow(
      /need signatures\[\{id, index\}\]/,
    );
  });

  it('off-chain withdrawals derive the first wallet at each derivationKey (BCH: per input, in order)', () => {
    const responses = [
      { address: { address: 'a', currency: 'LTC', derivationKey: 5 }, amount: 1, vIn: 'ab'.repeat(32), vInIndex: 0 },
      { address: { address: 'b', currency: 'LTC' }, amount: 1, vIn: 'cd'.repeat(32), vInIndex: 1 },
      { address: { address: 'c', currency: 'LTC', derivationKey: 5 }, amount: 1, vIn: 'ef'.repeat(32), vInIndex: 2 },
      { address: { address: 'd', currency: 'LTC' }, amount: 0.1, vIn: '-1' },
    ];
    const r = resolveKeys(
      tx('LTC', { hashes: ['m-ltc'], withdrawalId: 'w', withdrawalResponses: responses }),
      'utxo',
      true,
      lookup,
    );
    expect(r.refs.map((k) => k.index)).toEqual([5, 0]);
    const b = resolveKeys(
      tx('BCH', { hashes: ['m-bch'], withdrawalId: 'w', withdrawalResponses: responses }),
      'bch',
      true,
      lookup,
    );
    expect(b.refs.map((k) => k.index)).toEqual([5, 0, 5]);
    expect(() =>
      resolveKeys(
        tx('LTC', { hashes: ['k-ltc'], withdrawalId: 'w', withdrawalResponses: responses }),
        'utxo',
        true,
        lookup,
      ),
    ).toThrow(/mnemonic wallet/);
  });

  it('names ids that are not in the vault and refuses wallets of the other net', () => {
    expect(() => resolveKeys(tx('LTC', { hashes: ['nope'] }), 'utxo', true, lookup)).toThrow(/not in this vault: nope/);
    expect(() => resolveKeys(tx('LTC', { hashes: ['k-main'] }), 'utxo', true, lookup)).toThrow(
      /mainnet wallets, not used by a testnet daemon: k-main/,
    );
    expect(resolveKeys(tx('LTC', { hashes: ['k-main'] }), 'utxo', false, lookup).refs).toHaveLength(1);
  });
});
