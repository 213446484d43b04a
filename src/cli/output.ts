import { HardkmsError } from '../errors.js';

/** stdout carries results only (JSON, as Tatum KMS prints them); everything else goes to stderr. */
export function printJson(value: unknown, pretty = true): void {
  process.stdout.write(`${pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
}

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`WARNING: ${message}\n`);
}

/**
 * Errors are JSON on stderr, as Tatum KMS prints them ({"error": ...}), with our code and
 * hint added. A HardkmsError is a user error: no stack. Anything else is a bug: say so.
 */
export function printError(e: unknown): number {
  if (e instanceof HardkmsError) {
    const body: Record<string, string> = { error: e.message, code: e.code };
    if (e.hint) body.hint = e.hint;
    process.stderr.write(`${JSON.stringify(body)}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(
    `${JSON.stringify({ error: `Internal error: ${err.message}`, code: 'INTERNAL', hint: 'This is a bug in hardkms; please report it with the stack below.' })}\n`,
  );
  if (err.stack) process.stderr.write(`${err.stack}\n`);
  return 70;
}
