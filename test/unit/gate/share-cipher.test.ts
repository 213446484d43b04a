import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptShare, encryptShare } from '../../../src/gate/share-cipher.js';

const binding = () => ({ salt32: randomBytes(32), credentialId: 'yk-1', vaultId: 'vault-A', label: 'alice' });

describe('encryptShare / decryptShare', () => {
  it('round-trips with the same response', async () => {
    const share = randomBytes(49);
    const response = randomBytes(20);
    const b = binding();
    const sealed = await encryptShare(share, response, b);
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.ct).toHaveLength(49 + 16);
    expect(sealed.ct.includes(share)).toBe(false);
    expect((await decryptShare(sealed, response, b)).equals(share)).toBe(true);
  });

  it('a different response is GATE_WRONG_RESPONSE with the label in the message', async () => {
    const b = binding();
    const sealed = await encryptShare(randomBytes(49), randomBytes(20), b);
    await expect(decryptShare(sealed, randomBytes(20), b)).rejects.toThrow(
      'The YubiKey alice did not give the enrolled response: wrong key, or re-programmed slot.',
    );
    await expect(decryptShare(sealed, randomBytes(20), b)).rejects.toMatchObject({ code: 'GATE_WRONG_RESPONSE' });
  });

  it('is bound to the vault id, the credential id and the salt', async () => {
    const response = randomBytes(20);
    const b = binding();
    const sealed = await encryptShare(randomBytes(49), response, b);
    await expect(decryptShare(sealed, response, { ...b, vaultId: 'vault-B' })).rejects.toMatchObject({
      code: 'GATE_WRONG_RESPONSE',
    });
    await expect(decryptShare(sealed, response, { ...b, credentialId: 'yk-2' })).rejects.toMatchObject({
      code: 'GATE_WRONG_RESPONSE',
    });
    await expect(decryptShare(sealed, response, { ...b, salt32: randomBytes(32) })).rejects.toMatchObject({
      code: 'GATE_WRONG_RESPONSE',
    });
    const flipped = { iv: sealed.iv, ct: Buffer.from(sealed.ct) };
    flipped.ct[0]! ^= 1;
    await expect(decryptShare(flipped, response, b)).rejects.toMatchObject({ code: 'GATE_WRONG_RESPONSE' });
  });

  it('mixes in the passphrase: the response alone does not open the share', async () => {
    const share = randomBytes(49);
    const response = randomBytes(20);
    const b = { ...binding(), passphrase: Buffer.from('correct horse') };
    const sealed = await encryptShare(share, response, b);
    expect((await decryptShare(sealed, response, b)).equals(share)).toBe(true);
    await expect(decryptShare(sealed, response, { ...b, passphrase: Buffer.from('wrong horse') })).rejects.toThrow(
      /or a wrong passphrase/,
    );
    await expect(decryptShare(sealed, response, { ...b, passphrase: undefined })).rejects.toMatchObject({
      code: 'GATE_WRONG_RESPONSE',
    });
  });
});
