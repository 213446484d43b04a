import { exitCodeOf, type ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

/**
 * Every failure a user can cause or fix is a HardkmsError: a stable code for scripts,
 * a message that names what was wrong, and a hint that says how to fix it. The CLI
 * prints these without a stack trace; anything else is a bug and is printed as one.
 *
 * Messages and hints must never contain secret material (keys, mnemonics, PINs,
 * passwords): they end up in logs, audit records and terminals.
 */
export class HardkmsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Process exit code the CLI uses for this error: its code's class unless given. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HardkmsError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? exitCodeOf(code);
  }
}

/** Input from a user (flags, stdin, files) that does not satisfy a rule. */
export class InputError extends HardkmsError {
  constructor(message: string, hint?: string) {
    super('INVALID_INPUT', message, hint === undefined ? {} : { hint });
    this.name = 'InputError';
  }
}

export function isHardkmsError(e: unknown): e is HardkmsError {
  return e instanceof HardkmsError;
}

/**
 * An id, chain code or other text from a file, the user or the network as a message shows it:
 * printable ASCII only (anything else becomes '?', so no control character reaches a terminal
 * or log line) and at most `max` characters, the cut marked with '…'.
 */
export function shownText(text: string, max = 64): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
