import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { chainKitIfSupported } from '../chains/kit.js';
import { HardkmsError } from '../errors.js';
import { importLegacyEntries } from '../vault/legacy-import.js';
import { openLegacyStore, wipeLegacyEntries, type SkippedWallet } from '../vault/legacy-store.js';
import { configFrom, withVault } from './context.js';
import { takeEnvSecret } from '../config/env.js';
import { globalFlags } from './flags.js';
import { printJson, warn } from './output.js';
import { startProgress } from './progress.js';
import { readSecret } from './prompt.js';

/** The Tatum file's password: HARDKMS_LEGACY_PASSWORD (TATUM_KMS_PASSWORD opens the hardkms vault), else a prompt. */
async function legacyPassword(): Promise<Buffer> {
  // Removed from the environment once read (issue 9 item 8), like TATUM_KMS_PASSWORD.
  const env = takeEnvSecret('HARDKMS_LEGACY_PASSWORD');
  if (env !== undefined) return env;
  return readSecret(
    'Enter the password of the Tatum KMS wallet file (or set HARDKMS_LEGACY_PASSWORD): ',
    'Tatum wallet password',
  );
}

/** Exit code when some wallets were imported and others skipped (each listed, with the fix). */
const IMPORT_PARTIAL_EXIT_CODE = 3;

export function registerImportLegacy(program: Command): void {
  globalFlags(
    program
      .command('import-legacy')
      .description(
        'Move every wallet of a Tatum KMS wallet.dat into this hardware-backed vault, keeping the signature ids',
      )
      .argument('<file>', "Tatum KMS's wallet.dat (e.g. ~/.tatumrc/wallet.dat)")
      .option('--dry-run', 'decrypt and check everything, print the counts, store nothing'),
  ).action(async (file: string, opts: { dryRun?: boolean; path?: string; auditLog?: string; envFile?: string }) => {
    const config = configFrom(opts);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new HardkmsError('LEGACY_FILE_UNREADABLE', `Cannot read the Tatum wallet file ${file}.`, {
        hint: 'Check the path and its permissions.',
      });
    }
    const password = await legacyPassword();
    let entries;
    const skipped: SkippedWallet[] = [];
    try {
      entries = openLegacyStore(text, password, (s) => skipped.push(s));
    } finally {
      password.fill(0);
    }
    try {
      await withVault(config, 'cli:import-legacy', (vault) => {
        const progress = startProgress(
          opts.dryRun === true ? 'wallets checked' : 'wallets prepared for import',
          entries.length,
        );
        const summary = importLegacyEntries(vault, entries, chainKitIfSupported, {
          dryRun: opts.dryRun === true,
          source: file,
          skipped,
          onProgress: (done) => progress.update(done),
        });
        progress.update(entries.length);
        progress.finish();
        for (const w of summary.warnings)
          for (const text of w.warnings) warn(`wallet '${w.signatureId}' (${w.chain}): ${text}`);
        for (const s of summary.skipped)
          warn(`wallet '${s.signatureId}'${s.chain ? ` (${s.chain})` : ''} NOT imported: ${s.reason} Fix: ${s.fix}`);
        printJson({ dryRun: opts.dryRun === true, ...summary });
        // Scripts must notice a partial import: the summary on stdout lists each skipped wallet.
        if (summary.skipped.length > 0) process.exitCode = IMPORT_PARTIAL_EXIT_CODE;
      });
    } finally {
      wipeLegacyEntries(entries);
    }
  });
}
