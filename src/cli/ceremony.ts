import { WalletStore } from '../vault/store.js';
import { isStoreUrl } from '../vault/pg/url.js';
import type { Config } from '../config/config.js';
import { auditPublicKeyPath } from '../audit/log.js';
import { acquireCeremonyLock, releaseCeremonyLock } from '../vault/ceremony-lock.js';
import { note } from './output.js';
import { tokenBackupFor } from './token.js';

/** Ceremonies that set a new random token PIN (and so make every older backup useless). */
const PIN_CHANGING = new Set(['revoke', 'rotate', 'recover']);

/**
 * Call first in enroll/revoke/rotate/recover, before any key is touched: takes the vault's
 * ceremony lock (a second ceremony is refused), releases it when the process ends, and on
 * success says exactly what to back up now.
 */
export function beginCeremony(config: Config, command: string): void {
  if (!WalletStore.exists(config.walletPath)) return; // the command's own check reports the missing store
  const lock = acquireCeremonyLock(config.walletPath, command);
  process.once('exit', (code) => {
    try {
      releaseCeremonyLock(config.walletPath, lock);
    } catch {
      // A lock left behind by this process is cleared by the next ceremony (its holder is gone).
    }
    if (code === 0 && (process.exitCode === undefined || process.exitCode === 0)) {
      for (const line of backupAdvice(config, PIN_CHANGING.has(command))) note(line);
    }
  });
}

/** What to back up after a ceremony; the token only when its PIN changed. */
function backupAdvice(config: Config, pinChanged: boolean): string[] {
  const files = [config.walletPath, config.auditLogPath, auditPublicKeyPath(config.auditLogPath)];
  const lines = [
    'Back up now, together (see docs/runbook.md, "Backups"):',
    isStoreUrl(config.walletPath)
      ? `  - the PostgreSQL store (pg_dump of its database), ${files.slice(1).join(', ')}`
      : `  - ${files.join(', ')}  (copy wallet.dat with sqlite3 ".backup", or while no hardkms process runs)`,
  ];
  if (!pinChanged) return lines;
  const token = tokenBackupFor(config)?.check();
  if (token?.liveDir) {
    lines.push(
      `  - the SoftHSM2 token directory ${token.liveDir}  (its PIN changed just now: \`hardkms token backup --to DIR\` copies it verified)`,
    );
  } else {
    lines.push(
      "  - the token: its user PIN changed just now; if your HSM's backup includes its credentials, take a new one",
    );
  }
  lines.push(
    'Older backups of wallet.dat or the token no longer match each other: a wallet.dat from now with a token backup from before fails with HSM_WRONG_PIN.',
  );
  return lines;
}
