import { expect } from 'vitest';

/**
 * The error a promise rejects with (the test fails if it resolves or rejects with a non-Error);
 * `without`: text planted in an answer that hardkms must name by kind, never quote.
 */
export async function rejectionOf(p: Promise<unknown>, without?: string): Promise<Error & { code: string }> {
  const e = (await p.then(
    () => undefined,
    (x: unknown) => x,
  )) as Error & { code: string };
  expect(e).toBeInstanceOf(Error);
  if (without !== undefined) expect(e.message).not.toContain(without);
  return e;
}
