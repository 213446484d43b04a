import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { HardkmsError } from '../errors.js';

/**
 * One host-wide lock over a SoftHSM2 token directory, held while a hardkms process reads or
 * rewrites the token's files as a whole: loading the module (C_Initialize reads every
 * token), logging in and changing the PIN (both rewrite token.object), creating and
 * destroying token objects.
 *
 * Why: SoftHSM2's file store does not keep one process from reading token.object while
 * another rewrites it. Three processes that start and log in at once on one token fail
 * about two times in three here (CKR_TOKEN_NOT_RECOGNIZED at C_Initialize,
 * CKR_USER_PIN_NOT_INITIALIZED or CKR_GENERAL_ERROR at C_Login; SoftHSMv2 issue 757 reports
 * the same), and none does with this lock. Several daemons of one host on one token (the HA
 * soak), or a CLI command while a daemon restarts, meet it. Signing on an open session
 * reads no file as a whole and takes no lock.
 *
 * flock(2), not a lock file that says who holds it: the kernel releases a flock when its
 * process dies, so a SIGKILLed daemon never blocks the next start. Node has no flock, so it
 * is called through koffi (already loaded for native.ts's PKCS#11 calls).
 */

const LOCK_FILE = '.hardkms-access.lock';
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
/** Each holder keeps it for milliseconds (a login, a key generation); a minute means a hung process. */
const WAIT_MS = 60_000;
const POLL_MS = 5;

type Flock = (fd: number, operation: number) => number;
let flock: Flock | undefined;

function flockFunction(): Flock {
  if (flock) return flock;
  const koffi = createRequire(import.meta.url)('koffi') as {
    load(path: null): { func(definition: string): (...args: unknown[]) => unknown };
  };
  // The process's own symbols: libc's flock on glibc, musl and macOS alike.
  const f = koffi.load(null).func('int flock(int, int)');
  flock = (fd, operation) => f(fd, operation) as number;
  return flock;
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Per token directory: the open lock file and how deep this process is inside the lock (calls nest). */
const held = new Map<string, { fd: number; depth: number }>();

export function withTokenDirLock<T>(tokenDir: string, fn: () => T): T {
  const path = join(tokenDir, LOCK_FILE);
  let h = held.get(path);
  if (h) {
    // A second flock on another descriptor of the same file would wait for ourselves.
    h.depth++;
  } else {
    h = { fd: acquire(path), depth: 1 };
    held.set(path, h);
  }
  try {
    return fn();
  } finally {
    if (--h.depth === 0) {
      held.delete(path);
      flockFunction()(h.fd, LOCK_UN);
      closeSync(h.fd);
    }
  }
}

function acquire(path: string): number {
  const fd = openSync(path, 'a', 0o600);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (flockFunction()(fd, LOCK_EX | LOCK_NB) === 0) return fd;
    if (Date.now() >= deadline) {
      closeSync(fd);
      throw new HardkmsError(
        'HSM_TOKEN_BUSY',
        `Another process has held the SoftHSM2 token lock ${path} for over ${WAIT_MS / 1000} s.`,
        {
          hint: 'A hardkms process on this host is stuck while logging in or changing the token: find it (`fuser -v` on the lock file), stop it, and try again.',
        },
      );
    }
    sleepSync(POLL_MS);
  }
}
