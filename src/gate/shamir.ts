import * as sss from 'shamir-secret-sharing';
import { HardkmsError } from '../errors.js';

/**
 * M-of-N split over GF(2^8) with the audited `shamir-secret-sharing` library.
 * A share is `y-bytes ‖ x` (one byte per secret byte, then its x coordinate), so
 * shares are secret.length + 1 bytes.
 *
 * The library refuses threshold 1. A 1-of-N "split" is N copies of the secret, each
 * written in the same format with x = 1..N (a constant polynomial), so the library's
 * combine joins any of them back to the secret and our combine accepts a single one.
 */
const MAX_SHARES = 255;

export async function split(secret: Uint8Array, n: number, m: number): Promise<Buffer[]> {
  assertParams(n, m);
  if (secret.length === 0) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', 'Cannot split an empty secret.');
  }
  if (m === 1) {
    return Array.from({ length: n }, (_, i) => {
      const share = Buffer.alloc(secret.length + 1);
      share.set(secret, 0);
      share[secret.length] = i + 1;
      return share;
    });
  }
  // A plain Uint8Array copy: the library checks `instanceof Uint8Array`, which a Buffer
  // from another realm (vitest, vm contexts) fails.
  const copy = Uint8Array.from(secret);
  let shares: Uint8Array[];
  try {
    shares = await sss.split(copy, n, m);
  } finally {
    copy.fill(0);
  }
  return shares.map((s) => {
    const b = Buffer.from(s);
    s.fill(0);
    return b;
  });
}

/**
 * Joins shares back into the secret. With `threshold`, fewer shares is an error and
 * only the first `threshold` are used. Too few shares of a higher-threshold split
 * cannot be detected here (they interpolate to garbage): the caller checks the result.
 */
export async function combine(shares: readonly Uint8Array[], threshold?: number): Promise<Buffer> {
  if (threshold !== undefined) assertParams(Math.max(threshold, shares.length, 1), threshold);
  const need = threshold ?? 1;
  if (shares.length < need || shares.length === 0) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', `Joining the secret needs ${need} share(s); got ${shares.length}.`);
  }
  const used = threshold === undefined ? shares : shares.slice(0, threshold);
  const len = used[0]!.length;
  if (len < 2 || used.some((s) => s.length !== len)) {
    throw new HardkmsError(
      'GATE_SHAMIR_INVALID',
      'The shares have different lengths: they do not belong to the same split.',
      {
        hint: 'Use shares from the same vault and the same enrolment (rotate, revoke and enroll make new shares).',
      },
    );
  }
  const xs = new Set(used.map((s) => s[s.length - 1]));
  if (xs.size !== used.length) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', 'The same share was given twice.', {
      hint: 'Give shares from distinct operators.',
    });
  }
  if (used.length === 1) return Buffer.from(used[0]!.subarray(0, len - 1));
  const copies = used.map((s) => Uint8Array.from(s));
  try {
    const secret = await sss.combine(copies);
    const out = Buffer.from(secret);
    secret.fill(0);
    return out;
  } catch (e) {
    throw new HardkmsError('GATE_SHAMIR_INVALID', `The shares could not be joined: ${(e as Error).message}.`, {
      cause: e,
    });
  } finally {
    for (const c of copies) c.fill(0);
  }
}

function assertParams(n: number, m: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(m) || m < 1 || n < m || n > MAX_SHARES) {
    throw new HardkmsError(
      'GATE_SHAMIR_INVALID',
      `Invalid quorum ${m}-of-${n}: need whole numbers with 1 <= threshold <= shares <= ${MAX_SHARES}.`,
      {
        hint: 'Choose --threshold M and --yubikeys N with M <= N.',
      },
    );
  }
}
