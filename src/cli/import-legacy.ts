import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { chainKitIfSupported } from '../chains/kit.js';
import { HardkmsError } from '../errors.js';
import { importLegacyEntries } from '../vault/legacy-import.js';
import { openLegacyStore, wipeLegacyEntries } from '../vault/legacy-store.js';
import { configFrom, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { printJson } from './output.js';
import { readSecret } from './prompt.js';

/** The Tatum file's password: HARDKMS_LEGACY_PASSWORD (TATUM_KMS_PASSWORD opens the hardkms vault), else a prompt. */
async function legacyPassword(): Promise<Buffer> {
  const env = process.env.HARDKMS_LEGACY_PASSWORD;
  if (env !== undefined && env !== '') return Buffer.from(env, 'utf8');
  return readSecret('Enter the password of the Tatum KMS wallet file (or set HARDKMS_LEGACY_PASSWORD): ', 'Tatum wallet password');
}

export function registerImportLegacy(program: Command): void {
  globalFlags(
    program
      .command('import-legacy')
      .description('Move every wallet of a Tatum KMS wallet.dat into this hardware-backed vault, keeping the signature ids')
      .argument('<file>', "Tatum KMS's wallet.dat (e.g. ~/.tatumrc/wallet.dat)")
      .option('--dry-run', 'decrypt and check everything, print the counts, store nothing'),
  ).action(async (file: string, opts: { dryRun?: boolean; path?: string; auditLog?: string; envFile?: string }) => {
    const config = configFrom(opts);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new HardkmsError('LEGACY_FILE_UNREADABLE', `Cannot read the Tatum wallet file ${file}.`, { hint: 'Check the path and its permissions.' });
    }
    const password = await legacyPassword();
    let entries;
    try {
      entries = openLegacyStore(text, password);
    } finally {
      password.fill(0);
    }
    try {
      await withVault(config, 'cli:import-legacy', (vault) => {
        const summary = importLegacyEntries(vault, entries, chainKitIfSupported, { dryRun: opts.dryRun === true });
        vault.record({ event: 'wallet.import', subject: file, result: 'ok', details: { dryRun: opts.dryRun === true, ...summary } });
        printJson({ dryRun: opts.dryRun === true, ...summary });
      });
    } finally {
      wipeLegacyEntries(entries);
    }
  });
}
