import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { combine, split } from '../../../src/gate/shamir.js';

describe('shamir', () => {
  it('any M of N shares rebuild the secret, M-1 do not', async () => {
    const secret = randomBytes(40);
    const shares = await split(secret, 5, 3);
    expect(shares).toHaveLength(5);
    for (const s of shares) expect(s).toHaveLength(41);
    expect((await combine([shares[0]!, shares[2]!, shares[4]!], 3)).equals(secret)).toBe(true);
    expect((await combine([shares[3]!, shares[1]!, shares[0]!])).equals(secret)).toBe(true);
    expect((await combine([shares[0]!, shares[1]!])).equals(secret)).toBe(false);
    await expect(combine([shares[0]!, shares[1]!], 3)).rejects.toThrow(/needs 3 share\(s\); got 2/);
  });

  it('1-of-N: every share alone is enough', async () => {
    const secret = randomBytes(33);
    const shares = await split(secret, 3, 1);
    for (const s of shares) expect((await combine([s], 1)).equals(secret)).toBe(true);
    expect((await combine([shares[0]!, shares[2]!])).equals(secret)).toBe(true);
    expect((await combine(await split(secret, 1, 1))).equals(secret)).toBe(true);
  });

  it('validates parameters and shares', async () => {
    const s = randomBytes(8);
    await expect(split(s, 2, 3)).rejects.toThrow(/Invalid quorum 3-of-2/);
    await expect(split(s, 256, 2)).rejects.toMatchObject({ code: 'GATE_SHAMIR_INVALID' });
    await expect(split(s, 3, 0)).rejects.toThrow(/1 <= threshold <= shares <= 255/);
    await expect(split(Buffer.alloc(0), 3, 2)).rejects.toThrow(/empty secret/);
    const shares = await split(s, 3, 2);
    await expect(combine([shares[0]!, shares[0]!])).rejects.toThrow(/same share was given twice/);
    await expect(combine([shares[0]!, shares[1]!.subarray(1)])).rejects.toThrow(/different lengths/);
    await expect(combine([])).rejects.toMatchObject({ code: 'GATE_SHAMIR_INVALID' });
  });
});
