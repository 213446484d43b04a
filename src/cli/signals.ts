import { HardkmsError } from '../errors.js';
import { EXIT_CODES } from '../error-codes.js';
import { printError } from './output.js';

/**
 * Ctrl-C, SIGTERM and SIGHUP for every command. Without a handler Node dies at once, even
 * inside a synchronous PKCS#11 call: SoftHSM2 truncates and rewrites token.object in
 * C_Login, and a kill there leaves the token empty. With a handler the signal waits for the
 * running synchronous work (a token call, a SQLite transaction) to return; the process then
 * exits with 130 and CANCELLED, where nothing is half-written.
 *
 * A command that handles a signal itself (the daemon finishes the transaction in flight)
 * adds its own listener; this one then stays out of the way.
 */

const CANCELLED_EXIT_CODE = EXIT_CODES.cancelled;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let installed = false;

class CancelledError extends HardkmsError {
  constructor(signal: string) {
    super('CANCELLED', `Interrupted by ${signal}. Nothing was left half-done.`, {
      hint: 'Run the command again to finish; what was reported stored is stored.',
      exitCode: CANCELLED_EXIT_CODE,
    });
    this.name = 'CancelledError';
  }
}

function onSignal(signal: string): void {
  if (process.listenerCount(signal) > 1) return;
  process.exitCode = printError(new CancelledError(signal));
  process.exit(CANCELLED_EXIT_CODE);
}

export function installSignalHandling(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, () => onSignal(s));
}

/**
 * For a command that works in committed steps (a key batch): a signal is noted instead of
 * ending the process, so the command stops between two steps and says how far it got.
 * Until release(), onSignal above stays out of the way (it sees the extra listener).
 */
export function deferSignals(): { caught(): string | undefined; release(): void } {
  let caught: string | undefined;
  const handlers = SIGNALS.map((sig) => [sig, (): void => void (caught ??= sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return {
    caught: () => caught,
    release: () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
}
