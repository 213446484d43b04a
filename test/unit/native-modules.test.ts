import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// npm 11 may skip install scripts it was not told to allow; then these addons are missing
// and hardkms cannot reach a token or a store. package.json's allowScripts must cover them.
describe('native modules built by npm ci', () => {
  for (const [mod, file] of [
    ['pkcs11js', 'build/Release/pkcs11.node'],
    ['better-sqlite3', 'build/Release/better_sqlite3.node'],
  ] as const) {
    it(`${mod} has a compiled addon that loads`, () => {
      const root = dirname(require.resolve(`${mod}/package.json`));
      expect(existsSync(join(root, file))).toBe(true);
      expect(() => require(join(root, file))).not.toThrow();
    });
  }

  // secp256k1's own index.js falls back to pure JS without a word; hardkms loads the binding
  // directly (src/secp256k1-recover.ts), so it must exist for this platform.
  it('secp256k1 has a native binding (prebuilt or compiled) that recovers a key', async () => {
    const { secp256k1 } = await import('@noble/curves/secp256k1');
    const { findRecoveryId } = await import('../../src/secp256k1-recover.js');
    const native = require('secp256k1/bindings.js') as { ecdsaRecover: unknown };
    expect(typeof native.ecdsaRecover).toBe('function');
    const priv = Uint8Array.from(Buffer.alloc(32, 7));
    const digest = Uint8Array.from(Buffer.alloc(32, 9));
    const sig = secp256k1.sign(digest, priv, { lowS: true, prehash: false });
    const pub = secp256k1.getPublicKey(priv, true);
    expect(findRecoveryId(sig.toCompactRawBytes(), digest, pub)).toBe(sig.recovery);
    expect(
      findRecoveryId(
        sig.toCompactRawBytes(),
        digest,
        secp256k1.getPublicKey(Uint8Array.from(Buffer.alloc(32, 8)), true),
      ),
    ).toBeUndefined();
  });

  // bip32 runs on libsecp256k1 (src/secp256k1-native.ts): same results as the pure-JS curve,
  // inputs left as they were (the addon tweaks private keys in place), null at the edges.
  it('the bip32 curve operations on libsecp256k1 agree with @bitcoinerlab/secp256k1', async () => {
    const js = await import('@bitcoinerlab/secp256k1');
    const { bip32Ecc } = await import('../../src/secp256k1-native.js');
    const ecc = bip32Ecc();
    const d = Uint8Array.from(Buffer.alloc(32, 0x11));
    const t = Uint8Array.from(Buffer.alloc(32, 0x22));
    const dBefore = Buffer.from(d).toString('hex');
    const p = ecc.pointFromScalar(d)!;
    expect(Buffer.from(p)).toEqual(Buffer.from(js.pointFromScalar(d)!));
    expect(Buffer.from(ecc.privateAdd(d, t)!)).toEqual(Buffer.from(js.privateAdd(d, t)!));
    expect(Buffer.from(d).toString('hex')).toBe(dBefore);
    expect(Buffer.from(ecc.pointAddScalar(p, t)!)).toEqual(Buffer.from(js.pointAddScalar(p, t)!));
    const n1 = Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140', 'hex');
    const one = Buffer.alloc(32);
    one[31] = 1;
    expect(ecc.privateAdd(n1, one)).toBeNull(); // n-1 + 1 = 0
    expect(ecc.isPrivate(Buffer.alloc(32))).toBe(false);
    expect(ecc.isPoint(Buffer.from('030000000000000000000000000000000000000000000000000000000000000005', 'hex'))).toBe(
      false,
    );
    const h = Uint8Array.from(Buffer.alloc(32, 0x33));
    const sig = ecc.sign(h, d);
    expect(Buffer.from(sig)).toEqual(Buffer.from(js.sign(h, d)));
    expect(ecc.verify(h, p, sig)).toBe(true);
    expect(ecc.verify(Uint8Array.from(Buffer.alloc(32, 0x34)), p, sig)).toBe(false);
  });

  // koffi (src/hsm/native.ts: nested PKCS#11 templates, PIN as bytes) ships its addon
  // prebuilt in @koromix/koffi-<platform>; its own install script is not needed.
  it('koffi loads its prebuilt addon without an install script', () => {
    const koffi = require('koffi') as { sizeof(t: string): number };
    expect(koffi.sizeof('unsigned long')).toBe(8);
  });

  // Every dependency's install script is either approved (the addons above) or denied on
  // purpose in package.json's allowScripts; a new one npm 11 would silently skip fails here.
  it('npm has no install script left unreviewed by allowScripts', () => {
    const npmMajor = Number(execFileSync('npm', ['--version'], { encoding: 'utf8' }).split('.')[0]);
    if (npmMajor < 11) return; // older npm runs every install script: nothing to review
    const out = execFileSync('npm', ['install-scripts', 'ls'], { cwd: repoRoot, encoding: 'utf8' });
    expect(out).not.toMatch(/not yet covered/);
    expect(out).toMatch(/No packages with unreviewed install scripts/);
  });
});
