/**
 * A password seal record read back from wallet.dat is untrusted until the unseal has
 * authenticated it (the meta MAC's key comes out of the seal). A hand-edited record must
 * fail with a coded error naming the field, never a TypeError (an internal error, exit 70),
 * and never echo what it found.
 */
import { describe, expect, it } from 'vitest';
import { HardkmsError } from '../../../src/errors.js';
import { PasswordProvider, type ScryptParams } from '../../../src/vault/password-provider.js';
import type { SealContext, SealRecord } from '../../../src/vault/secret.js';

const FAST: ScryptParams = { N: 2 ** 10, r: 1, p: 1 };
const ctx: SealContext = { vaultId: 'v-1', mainnet: false, audit: () => undefined };
const password = (): Promise<Buffer> => Promise.resolve(Buffer.from('correct horse battery staple'));

async function sealed(): Promise<SealRecord> {
  return new PasswordProvider(password, FAST).seal(
    { storeKey: Buffer.alloc(32, 7), tokenPin: Buffer.from('1234') },
    ctx,
  );
}

async function unsealError(record: SealRecord): Promise<HardkmsError> {
  try {
    await new PasswordProvider(password, FAST).unseal(record, ctx);
  } catch (e) {
    if (e instanceof HardkmsError) return e;
    throw new Error(`expected a HardkmsError, got ${String(e)}`);
  }
  throw new Error('expected the unseal to fail');
}

describe('password seal record from wallet.dat', () => {
  it('unseals the record it made', async () => {
    const secret = await new PasswordProvider(password, FAST).unseal(await sealed(), ctx);
    expect(secret.storeKey).toEqual(Buffer.alloc(32, 7));
  });

  const MARK = 'deadbeefcafe0123456789';
  const cases: [string, (r: Record<string, unknown>) => void, string][] = [
    ['salt not a string', (r) => ((r.kdf as Record<string, unknown>).salt = 12345), 'kdf.salt'],
    ['iv not hex', (r) => (r.iv = `zz${MARK}`), 'iv'],
    ['iv missing', (r) => delete r.iv, 'iv'],
    ['ciphertext an object', (r) => (r.ciphertext = { MARK }), 'ciphertext'],
    ['ciphertext shorter than a GCM tag', (r) => (r.ciphertext = 'abcd'), 'ciphertext'],
    ['kdf not an object', (r) => (r.kdf = MARK), 'kdf'],
    ['unknown version', (r) => (r.version = 3), 'version'],
  ];
  it.each(cases)('refuses a record whose %s, naming the field and not its value', async (_name, edit, field) => {
    const record = structuredClone(await sealed()) as Record<string, unknown>;
    edit(record);
    const e = await unsealError(record as SealRecord);
    expect(e.code).toBe('SEAL_RECORD_INVALID');
    expect(e.message).toContain(field);
    expect(e.message).not.toContain(MARK);
    expect(e.message).not.toContain('12345');
  });

  it('keeps refusing KDF parameters outside the accepted range before running scrypt', async () => {
    const record = structuredClone(await sealed()) as Record<string, unknown>;
    (record.kdf as Record<string, unknown>).N = 2 ** 30;
    expect((await unsealError(record as SealRecord)).code).toBe('SEAL_KDF_INVALID');
  });

  it('says which provider sealed a vault that is not password-sealed', async () => {
    const e = await unsealError({ provider: 'yubikey' });
    expect(e.code).toBe('SEAL_PROVIDER_MISMATCH');
    expect(e.hint).toContain('YubiKeys');
  });
});
