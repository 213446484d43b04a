import type { Command } from 'commander';
import { configFrom, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { note, printJson } from './output.js';

type Opts = { path?: string; auditLog?: string; envFile?: string; apiKey?: string };

/**
 * `hardkms rebind`: moves the vault's authenticated token binding to the PKCS#11 module /
 * profile named by HARDKMS_PKCS11_MODULE / HARDKMS_TOKEN_PROFILE (a module that moved, a
 * new client version). It unseals with the quorum, and the new module must show the same
 * token (serial), the vault's keys and accept the PIN before anything is rewritten; audited.
 */
export function registerRebind(program: Command): void {
  globalFlags(
    program
      .command('rebind')
      .description('Bind the vault to the PKCS#11 module in HARDKMS_PKCS11_MODULE (needs the quorum; audited)'),
  ).action(async (opts: Opts) => {
    await withVault(
      configFrom(opts),
      'cli:rebind',
      (vault) => {
        note(
          `vault ${vault.vaultId} is bound to ${vault.binding.modulePath} (profile ${vault.binding.profile}, token '${vault.binding.label}').`,
        );
        printJson({
          modulePath: vault.binding.modulePath,
          profile: vault.binding.profile,
          label: vault.binding.label,
          serial: vault.binding.serial,
        });
      },
      { rebind: true },
    );
  });
}
