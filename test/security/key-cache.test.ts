/**
 * The daemon's opt-in per-cycle key cache (--key-cache, issue 13): a private-key wallet's
 * key is unwrapped once per cycle instead of once per signature. What must still hold:
 * the cached key is a token session object the host cannot read (invariant 2: the plain
 * key never returns to the host), no key outlives its cycle (or a seal in the middle of
 * one), and each destruction is audited. Without the option nothing is cached.
 */
import pkcs11js from 'pkcs11js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Token } from '../../src/hsm/token.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, auditRecords, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';
import { spyableSteps, tryReadValue } from '../../src/hsm/token-testing.js';

const TO = '0x1111111111111111111111111111111111111111';

/** Private-key objects in the token's session (not on the token): unwrapped keys alive now. */
function sessionPrivateKeys(token: Token): number {
  const { lib, session } = token as unknown as { lib: pkcs11js.PKCS11; session: Buffer };
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_TOKEN, value: false },
  ]);
  try {
    return lib.C_FindObjects(session, 100).length;
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

describe('per-cycle key cache (daemon --key-cache)', () => {
  let tv: TestVault | undefined;
  let api: FakeTatumApi | undefined;
  let signer: Signer | undefined;
  let nonce = 0;
  const tx = () => JSON.stringify({ to: TO, value: '1', gasPrice: '1000000000', gas: 21000, nonce: nonce++ });

  afterEach(async () => {
    signer?.close();
    await api?.stop();
    try {
      tv?.vault.seal('test end');
    } catch {
      // sealed by the test
    }
    vi.restoreAllMocks();
  });

  async function setup(keyCache: boolean) {
    tv = await createTestVault({ testnetOnly: true });
    const a = addPrivateKey(tv.vault, 'ETH', true, testKey(0x41));
    const b = addPrivateKey(tv.vault, 'ETH', true, testKey(0x42));
    api = await FakeTatumApi.start();
    signer = inProcessSigner(tv.vault, api, { testnet: true, chains: ['ETH'], keyCache });
    for (const w of [a, a, a, b, b]) api.queue({ chain: 'ETH', hashes: [w], serializedTransaction: tx() });
    const token = tv.vault.token;
    const steps = spyableSteps(token);
    const unwraps = vi.spyOn(steps, 'unwrapSecp256k1');
    // Each signature's key handle, and whether the host could read that key while it was alive.
    const readable: boolean[] = [];
    const signRaw = steps.signRaw.bind(token);
    vi.spyOn(steps, 'signRaw').mockImplementation((handle, digest) => {
      let value: Buffer | undefined;
      try {
        value = tryReadValue(token, handle);
      } catch {
        // CKR_ATTRIBUTE_SENSITIVE: as it must be
      }
      readable.push(value !== undefined);
      return signRaw(handle, digest);
    });
    return { tv, api, token, unwraps, readable, a };
  }

  it('unwraps each key once per cycle, keeps it unreadable in the token, destroys it at the end and audits that', async () => {
    const { tv, api, token, unwraps, readable, a } = await setup(true);
    expect((await cycle(signer!)).error).toBeUndefined();
    expect(api.broadcasts).toHaveLength(5);
    expect(unwraps).toHaveBeenCalledTimes(2); // two wallets, five signatures
    // Every key that signed (the wallets' and the audit key) refused to be read.
    expect(readable.length).toBeGreaterThanOrEqual(5);
    expect(readable.includes(true)).toBe(false);
    expect(sessionPrivateKeys(token)).toBe(0);
    const destroyed = auditRecords(tv).filter((r) => r.event === 'keycache.destroy');
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0]!.details).toMatchObject({ keys: 2 });
    // The next cycle unwraps again: nothing is carried over.
    api.queue({ chain: 'ETH', hashes: [a], serializedTransaction: tx() });
    await cycle(signer!);
    expect(unwraps).toHaveBeenCalledTimes(3);
    expect(sessionPrivateKeys(token)).toBe(0);
  });

  it('without --key-cache, one unwrap per signature, each key destroyed at once, nothing recorded', async () => {
    const { tv, api, token, unwraps } = await setup(false);
    await cycle(signer!);
    expect(api.broadcasts).toHaveLength(5);
    expect(unwraps).toHaveBeenCalledTimes(5);
    expect(sessionPrivateKeys(token)).toBe(0);
    expect(auditRecords(tv).some((r) => r.event === 'keycache.destroy')).toBe(false);
  });

  it('a seal in the middle of a cycle destroys the cached keys with the login', async () => {
    const { tv, token } = await setup(true);
    token.beginKeyCache();
    const entry = tv.vault.store.listEntries()[0]!;
    const { signWithEntry } = await import('../../src/vault/entry-secrets.js');
    signWithEntry(tv.vault, entry, new Uint8Array(32).fill(1));
    expect(sessionPrivateKeys(token)).toBe(1);
    tv.vault.seal('test: seal mid-cycle');
    expect(token.endKeyCache()).toBe(0); // logout already destroyed them
  });
});
