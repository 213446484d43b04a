import { HardkmsError } from '../errors.js';
import { printError } from './output.js';

/**
 * Ctrl-C, SIGTERM and SIGHUP for every command. Without a handler Node dies at once, even
 * inside a synchronous PKCS#11 call: SoftHSM2 truncates and rewrites token.object in
 * C_Login, and a kill there leaves the token empty. With a handler the signal waits for the
 * running synchronous work (a token call, a SQLite transaction) to return; the process then
 * exits with 130 and CANCELLED at the next await, where nothing is half-written. Sections
 * that must finish whole across awaits run inside `uninterruptible()`.
 *
 * A command that handles a signal itself (the daemon finishes the transaction in flight)
 * adds its own listener; this one then stays out of the way.
 */

export const CANCELLED_EXIT_CODE = 130;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let installed = false;
let depth = 0;
let pending: string | undefined;
let interruptNote: (() => string | undefined) | undefined;

export class CancelledError extends HardkmsError {
  constructor(signal: string, detail?: string) {
    super('CANCELLED', `Interrupted by ${signal}${detail ? `: ${detail}` : ''}. Nothing was left half-done.`, {
      hint: 'Run the command again to finish; what was reported stored is stored.',
      exitCode: CANCELLED_EXIT_CODE,
    });
    this.name = 'CancelledError';
  }
}

function cancelNow(signal: string): never {
  const detail = interruptNote?.();
  process.exitCode = printError(new CancelledError(signal, detail));
  process.exit(CANCELLED_EXIT_CODE);
}

function onSignal(signal: string): void {
  if (process.listenerCount(signal) > 1) return;
  if (pending !== undefined) {
    process.stderr.write(`${signal} again: still finishing the token operation in flight; it exits right after.\n`);
    return;
  }
  pending = signal;
  if (depth === 0) cancelNow(signal);
  process.stderr.write(`${signal} received: finishing the operation in flight, then exiting.\n`);
}

export function installSignalHandling(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, () => onSignal(s));
}

/** Runs fn whole: a signal during it takes effect when it is done (CancelledError). */
export async function uninterruptible<T>(fn: () => Promise<T> | T): Promise<T> {
  depth++;
  try {
    return await fn();
  } finally {
    depth--;
    if (depth === 0 && pending !== undefined) {
      // Let the caller's own finally blocks (sealing) run: throw, do not exit here.
      // eslint-disable-next-line no-unsafe-finally
      throw new CancelledError(pending, interruptNote?.());
    }
  }
}

/** What an interrupted command should say it got done ("412 of 1000 keys stored"). */
export function setInterruptNote(fn: (() => string | undefined) | undefined): void {
  interruptNote = fn;
}

/** Gives a pending signal its chance in a long synchronous loop (batch generation). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
