import { hostname } from 'node:os';
import { HardkmsError } from '../errors.js';
import { ceremonyLockRecord } from './meta-records.js';
import { WalletStore } from './store.js';

/**
 * One ceremony (enroll, revoke, rotate, recover) at a time per vault. Two rotations at
 * once would both print "write these recovery shares down" while only the last seal
 * counts: one set of sheets would be dead on arrival. The lock is a meta row taken in the
 * store's write transaction, before anyone touches a key; a holder that died (same host,
 * no such process) does not block the next ceremony.
 */

const LOCK_KEY = 'ceremony_lock';
/** A lock from another host is trusted for this long (its process cannot be checked from here). */
const FOREIGN_LOCK_MS = 2 * 60 * 60 * 1000;

export interface CeremonyLock {
  command: string;
  pid: number;
  host: string;
  started: string;
}

function holderAlive(lock: CeremonyLock): boolean {
  if (lock.host !== hostname()) return Date.now() - Date.parse(lock.started) < FOREIGN_LOCK_MS;
  if (lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireCeremonyLock(path: string, command: string): CeremonyLock {
  const store = WalletStore.open(path);
  try {
    return store.transaction(() => {
      const held = store.getMetaJson(LOCK_KEY, ceremonyLockRecord);
      if (held && holderAlive(held)) {
        throw new HardkmsError(
          'CEREMONY_IN_PROGRESS',
          `Another ceremony is running on this vault: \`hardkms ${held.command}\` (process ${held.pid} on ${held.host}, started ${held.started}). Nothing was done; no key was touched.`,
          {
            hint: 'Let it finish (its recovery shares are the ones that count), then run this command again. A lock left by a process that died on this host clears itself; one from another host expires 2 hours after it was taken.',
          },
        );
      }
      const lock: CeremonyLock = { command, pid: process.pid, host: hostname(), started: new Date().toISOString() };
      store.setMetaJson(LOCK_KEY, lock);
      return lock;
    });
  } finally {
    store.close();
  }
}

/** Releases the lock if this process holds it. */
export function releaseCeremonyLock(path: string, lock: CeremonyLock): void {
  const store = WalletStore.open(path);
  try {
    store.transaction(() => {
      const held = store.getMetaJson(LOCK_KEY, ceremonyLockRecord);
      if (held && held.pid === lock.pid && held.host === lock.host && held.started === lock.started)
        store.deleteMeta(LOCK_KEY);
    });
  } finally {
    store.close();
  }
}
