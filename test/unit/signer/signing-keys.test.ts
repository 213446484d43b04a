import { secp256k1 } from '@noble/curves/secp256k1';
import { describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../../src/chains/registry.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';
import { hostDigestSigner, type HostDigestSigner } from '../../../src/chains/digest-signer.js';
import type { WalletEntry } from '../../../src/vault/entries.js';
import type { Vault } from '../../../src/vault/vault.js';
import { childPublicKeyFromXpub } from '../../../src/signer/pipeline/key-resolution.js';
import {
  defaultSigningKeyDeps,
  signingKeyFor,
  type SigningKeyDeps,
} from '../../../src/signer/pipeline/signing-keys.js';

const WORDS = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const seed0 = mnemonicToSeed(Buffer.from(WORDS));
const entry: WalletEntry = {
  signatureId: 'm-eth',
  chain: 'ETH',
  testnet: true,
  kind: 'mnemonic',
  publicData: { xpub: getChainAdapter('ETH').xpubFromSeed(seed0, true) },
  wrappedSecret: Buffer.alloc(0),
  mechanism: 'CKM_AES_GCM',
  created: '',
};
const vault = {} as Vault;
const digest = new Uint8Array(32).fill(7);
const allZero = (b: Uint8Array) => b.every((x) => x === 0);

/** Deps that record every secret buffer the signer is handed, and whether the host signer was wiped. */
function watching(): {
  deps: SigningKeyDeps;
  buffers: { name: string; buf: Uint8Array }[];
  hosts: { wiped: boolean }[];
  decrypts: number;
} {
  const buffers: { name: string; buf: Uint8Array }[] = [];
  const hosts: { wiped: boolean }[] = [];
  const w = {
    buffers,
    hosts,
    decrypts: 0,
    deps: {
      ...defaultSigningKeyDeps,
      decryptMnemonic: () => {
        w.decrypts += 1;
        const m = Buffer.from(WORDS);
        buffers.push({ name: 'mnemonic', buf: m });
        return m;
      },
      mnemonicToSeed: (m: Uint8Array) => {
        const s = defaultSigningKeyDeps.mnemonicToSeed(m);
        buffers.push({ name: 'seed', buf: s });
        return s;
      },
      privateKeyFromSeed: (e: WalletEntry, s: Uint8Array, i: number) => {
        const k = defaultSigningKeyDeps.privateKeyFromSeed(e, s, i);
        buffers.push({ name: 'child key', buf: k });
        return k;
      },
      hostSigner: (k: Uint8Array): HostDigestSigner => {
        const inner = hostDigestSigner(k);
        const state = { wiped: false };
        hosts.push(state);
        return {
          publicKey: inner.publicKey,
          signDigest: (d) => inner.signDigest(d),
          wipe: () => {
            state.wiped = true;
            inner.wipe();
          },
        };
      },
    } satisfies SigningKeyDeps,
  };
  return w;
}

describe('token signer (unwrap only at signing)', () => {
  it('mnemonic wallet: decrypts on the first digest only, then holds nothing after wipe()', async () => {
    const w = watching();
    const ref = { entry, index: 3, publicKey: childPublicKeyFromXpub(entry.publicData.xpub!, 3) };
    const signer = signingKeyFor(vault, ref, w.deps);
    expect(w.decrypts).toBe(0); // creating a signer touches no secret
    const sig = await signer.signDigest(digest);
    await signer.signDigest(new Uint8Array(32).fill(9));
    expect(w.decrypts).toBe(1);
    expect(secp256k1.verify(Uint8Array.from([...sig.r, ...sig.s]), digest, ref.publicKey, { prehash: false })).toBe(
      true,
    );
    // Mnemonic, seed and child key are zeroed as soon as the host signer exists.
    expect(w.buffers.map((b) => b.name)).toEqual(['mnemonic', 'seed', 'child key']);
    for (const b of w.buffers) expect(allZero(b.buf), b.name).toBe(true);
    expect(w.hosts[0]?.wiped).toBe(false);

    signer.wipe();
    expect(w.hosts[0]?.wiped).toBe(true);
    await expect(signer.signDigest(digest)).rejects.toThrow(/wiped/);
    // Nothing in the signer object is a 32-byte buffer other than the public key it was given.
    for (const v of Object.values(signer)) if (v instanceof Uint8Array) expect(v.length).toBe(33);
  });

  it('refuses a key whose derivation disagrees with the stored xpub, wiping what it derived', async () => {
    const w = watching();
    const wrongPub = childPublicKeyFromXpub(entry.publicData.xpub!, 4);
    const signer = signingKeyFor(vault, { entry, index: 3, publicKey: wrongPub }, w.deps);
    await expect(signer.signDigest(digest)).rejects.toThrow(/does not match its stored xpub/);
    for (const b of w.buffers) expect(allZero(b.buf), b.name).toBe(true);
    expect(w.hosts[0]?.wiped).toBe(true);
  });

  it('private-key wallet: every digest goes to the token; nothing is decrypted on the host', async () => {
    const w = watching();
    const calls: Uint8Array[] = [];
    const deps: SigningKeyDeps = {
      ...w.deps,
      signWrapped: (_v, _e, d) => (calls.push(d), { r: new Uint8Array(32).fill(1), s: new Uint8Array(32).fill(2) }),
    };
    const keyEntry: WalletEntry = {
      ...entry,
      signatureId: 'k',
      kind: 'privateKey',
      publicData: { publicKey: '02' + '11'.repeat(32) },
    };
    const signer = signingKeyFor(
      vault,
      { entry: keyEntry, publicKey: Buffer.from('02' + '11'.repeat(32), 'hex') },
      deps,
    );
    await signer.signDigest(digest);
    expect(calls).toEqual([digest]);
    expect(w.decrypts).toBe(0);
    signer.wipe();
    await expect(signer.signDigest(digest)).rejects.toThrow(/wiped/);
  });
});
