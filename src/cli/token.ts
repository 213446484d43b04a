import { WalletStore } from '../vault/store.js';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { HardkmsError } from '../errors.js';
import { damagedError, softHsmBackupFor, type SoftHsmBackup, type TokenCheck } from '../hsm/softhsm-backup.js';
import { DEFAULT_PROFILE } from '../hsm/profiles.js';
import { DEFAULT_TOKEN_LABEL } from '../hsm/token.js';
import { readVaultFacts } from '../vault/facts.js';
import { recordWhileSealed } from '../vault/audit-binding.js';
import { configFrom } from './context.js';
import { globalFlags } from './flags.js';
import { note, printJson } from './output.js';

type Opts = { path?: string; auditLog?: string; envFile?: string; apiKey?: string };

/** The token of the vault at --path when there is one, else the one the environment names. */
export function tokenBackupFor(config: Config): SoftHsmBackup | undefined {
  let label = config.token.label;
  let profile = config.token.profile;
  let modulePath = config.token.modulePath;
  if (WalletStore.exists(config.walletPath)) {
    try {
      const facts = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath });
      label ??= facts.binding.label;
      profile ??= facts.binding.profile;
      modulePath ??= facts.binding.modulePath;
    } catch {
      // Not a vault (or an incomplete one): the environment names the token.
    }
  }
  return softHsmBackupFor(profile ?? DEFAULT_PROFILE, modulePath, label ?? DEFAULT_TOKEN_LABEL);
}

function requireBackup(config: Config): SoftHsmBackup {
  const backup = tokenBackupFor(config);
  if (!backup) {
    throw new HardkmsError(
      'TOKEN_CHECK_UNSUPPORTED',
      '`hardkms token check/repair` look after a SoftHSM2 token in its file store; this vault uses another token, or SoftHSM2 has no readable config.',
      {
        hint: "Set SOFTHSM2_CONF to the token's softhsm2.conf. Hardware HSMs keep their own state: use the vendor's backup procedure.",
      },
    );
  }
  return backup;
}

export function publicCheck(c: TokenCheck): Record<string, unknown> {
  return {
    label: c.label,
    state: c.state,
    serial: c.serial ?? null,
    tokenDir: c.liveDir ?? c.tokenDir,
    problems: c.problems,
    repairable: c.state === 'damaged' ? c.repairable : null,
    backup: c.backup ?? null,
    backupCurrent: c.backupCurrent ?? null,
  };
}

export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('The SoftHSM2 token: check its files, repair them from the verified copy');

  globalFlags(
    token.command('check').description("Check the token's files without logging in; exit 5 when damaged"),
  ).action((opts: Opts) => {
    const config = configFrom(opts);
    const c = requireBackup(config).check();
    printJson(publicCheck(c));
    if (c.state === 'damaged') throw damagedError(c);
    if (c.state === 'absent') {
      throw new HardkmsError('HSM_TOKEN_NOT_FOUND', `No SoftHSM2 token labelled '${c.label}' in ${c.tokenDir}.`, {
        hint: 'Check SOFTHSM2_CONF and HARDKMS_TOKEN_LABEL.',
      });
    }
  });

  globalFlags(
    token
      .command('backup')
      .description(
        "Copy the token's files, verified, into a directory of yours (keep it with the wallet.dat backup of the same moment; audited)",
      )
      .requiredOption('--to <dir>', 'backup directory (a new one per backup)'),
  ).action((opts: Opts & { to: string }) => {
    const config = configFrom(opts);
    const backup = requireBackup(config);
    const { path, manifest } = backup.exportTo(resolve(opts.to));
    if (WalletStore.exists(config.walletPath)) {
      recordWhileSealed(
        { path: config.walletPath, auditLogPath: config.auditLogPath },
        {
          event: 'token.backup',
          subject: backup.label,
          result: 'ok',
          details: { to: path, files: manifest.files.length, userPinSha256: manifest.userPinSha256 ?? null },
        },
        'cli:token-backup',
      );
    }
    printJson({
      backup: path,
      label: manifest.label,
      serial: manifest.serial,
      files: manifest.files.map((f) => f.name),
      createdAt: manifest.createdAt,
    });
    note(
      `To restore: stop hardkms, copy ${path} back to ${backup.config.tokenDir}/${manifest.tokenDirName} (same owner, mode 0700), with the wallet.dat backed up at the same time.`,
    );
  });

  globalFlags(
    token
      .command('repair')
      .description(
        'Restore damaged token files from the verified copy beside the token directory (stop the daemon first; audited)',
      ),
  ).action((opts: Opts) => {
    const config = configFrom(opts);
    const backup = requireBackup(config);
    const audit = (result: 'ok' | 'fail', details: Record<string, unknown>): void => {
      if (!WalletStore.exists(config.walletPath)) return;
      try {
        recordWhileSealed(
          { path: config.walletPath, auditLogPath: config.auditLogPath },
          { event: 'token.repair', subject: backup.label, result, details },
          'cli:token-repair',
        );
      } catch (e) {
        note(`Could not write the audit record: ${(e as Error).message}`);
      }
    };
    let r;
    try {
      r = backup.repair();
    } catch (e) {
      audit('fail', { code: e instanceof HardkmsError ? e.code : 'INTERNAL' });
      throw e;
    }
    if (r.restored.length === 0 && r.before.state === 'ok') {
      printJson({ repaired: false, ...publicCheck(r.after) });
      note('The token is whole: nothing to repair.');
      return;
    }
    audit(r.after.state === 'ok' ? 'ok' : 'fail', {
      restored: r.restored,
      problems: r.before.problems,
      backup: r.backupPath,
      backupCurrent: r.after.backupCurrent ?? null,
    });
    printJson({ repaired: r.after.state === 'ok', restored: r.restored, ...publicCheck(r.after) });
    if (r.after.state !== 'ok') throw damagedError(r.after);
    note(`Restored ${r.restored.join(', ')} from ${r.backupPath}.`);
    if (r.after.backupCurrent === false) {
      note(
        'The copy predates the last PIN change: if the next unseal reports HSM_WRONG_PIN, restore the token directory from the backup taken after that change.',
      );
    }
  });
}
