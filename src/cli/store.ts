import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { migrateVault } from '../vault/store-migrate.js';
import { isStoreUrl, parseStoreUrl } from '../vault/pg/url.js';
import { configFrom, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { note, printJson } from './output.js';

type Opts = {
  from?: string;
  to?: string;
  path?: string;
  store?: string;
  auditLog?: string;
  envFile?: string;
  apiKey?: string;
};

/**
 * `hardkms store migrate --from A --to B`: moves a vault between wallet.dat and a PostgreSQL
 * store, either way (src/vault/store-migrate.ts). It unseals the source with the quorum,
 * verifies it, copies every row as it is and seals; running it again resumes or repeats the
 * copy, and refuses a target that signers have written to since.
 */
export function registerStore(program: Command): void {
  const store = program
    .command('store')
    .description('Move a vault between wallet.dat and PostgreSQL (several signers)');
  globalFlags(
    store
      .command('migrate')
      .description(
        'Copy the vault in --from (wallet.dat or postgres://…) to --to, verified, resumable (needs the quorum; audited)',
      )
      .requiredOption('--from <store>', 'the vault to move: a wallet.dat path or a postgres:// URL')
      .requiredOption('--to <store>', 'where to: a new wallet.dat path or an empty (or partly copied) database URL'),
  ).action(async (opts: Opts) => {
    if (opts.path !== undefined || opts.store !== undefined) {
      throw new InputError(
        'store migrate names its stores with --from and --to, not --path / --store.',
        'Drop --path / --store.',
      );
    }
    const from = opts.from!;
    const to = opts.to!;
    if (isStoreUrl(to)) parseStoreUrl(to);
    const config = configFrom(isStoreUrl(from) ? { ...opts, store: from } : { ...opts, path: from });
    const target = isStoreUrl(to) ? to : (await import('node:path')).resolve(to);
    await withVault(config, 'cli:store.migrate', (vault) => {
      const r = migrateVault(vault, target);
      note(
        `vault ${r.vaultId} copied to ${r.to}${r.resumed ? ' (completed an earlier copy)' : ''}. Start the signers on the target; keep the source stopped (a backup), never sign from both.`,
      );
      printJson(r);
    });
  });
}
