import { Option, type Command } from 'commander';
import { setResultFormat } from './output.js';
import { outputFormat } from './table.js';

/** Tatum KMS's shared flags, plus ours; added to every command so they work after the command name. */
export function globalFlags(cmd: Command): Command {
  // Tatum KMS's CLI accepts its flags on every command (a Tatum user's scripts pass --testnet to
  // getmanagedwallet, export, report…). Where a command has no use for one it is accepted and
  // ignored; commands that use them declare them themselves, with help, before this runs.
  for (const [flags, help] of TATUM_SHARED_FLAGS) {
    const long = flags.split(' ')[0]!;
    if (!cmd.options.some((o) => o.long === long))
      cmd.addOption(new Option(flags, `${help} (accepted as Tatum KMS does; unused here)`).hideHelp());
  }
  if (!cmd.options.some((o) => o.long === '--output')) {
    // Results are JSON by default, as Tatum KMS prints them; commands with a table of their own (status, list) declare --output themselves.
    cmd
      .option('--output <format>', 'json (default) or text')
      .hook('preAction', (self) => setResultFormat(outputFormat(self.opts().output, 'json')));
  }
  return cmd
    .option('--path <file>', 'wallet store (default ~/.hardkms/wallet.dat)')
    .option(
      '--store <url>',
      'PostgreSQL store for several signers, postgres://USER@HOST/DB?sslmode=verify-full&sslrootcert=CA (or HARDKMS_STORE_URL); instead of --path',
    )
    .option('--audit-log <file>', 'audit log (default audit.log beside the wallet store)')
    .addOption(
      apiOnly(
        cmd.name(),
        new Option(
          '--envFile <file>',
          'env file to load (default ~/.hardkms/.env; ./.env only if named here); it may set only TATUM_API_KEY, TATUM_API_URL, HARDKMS_LOG_LEVEL',
        ),
      ),
    )
    .addOption(
      apiOnly(
        cmd.name(),
        new Option('--apiKey <key>', 'Tatum API key (prefer TATUM_API_KEY: argv is visible to other users)'),
      ),
    );
}

/** Commands that use the Tatum API settings; the others accept --apiKey/--envFile (Tatum's shared flags) without listing them. */
const USES_API = new Set(['daemon', 'checkconfig']);

function apiOnly(command: string, option: Option): Option {
  return USES_API.has(command) ? option : option.hideHelp();
}

/** The flags Tatum KMS 8.0.1 declares for all commands (spec §6), hardkms's security-only ones aside. */
const TATUM_SHARED_FLAGS: readonly [string, string][] = [
  ['--testnet', 'testnet'],
  ['--period <seconds>', 'polling period'],
  ['--chain <chains>', 'chains to poll'],
  ['--externalUrl <url>', 'four-eyes approver'],
  ['--externalUrlMethod <method>', 'approver method'],
  ['--runOnce', 'one daemon cycle'],
  ['--wallets <ids>', 'wallet ids for --runOnce'],
  ['--transactionIds <ids>', 'pending ids for --runOnce'],
];

/** meow (Tatum's parser) accepts flags in kebab-case too; these are the spellings Tatum users type. */
const KEBAB_ALIASES: Readonly<Record<string, string>> = {
  '--api-key': '--apiKey',
  '--run-once': '--runOnce',
  '--external-url': '--externalUrl',
  '--external-url-method': '--externalUrlMethod',
  '--env-file': '--envFile',
  '--transaction-ids': '--transactionIds',
};

/** Rewrites Tatum's kebab-case flag spellings (also in the --flag=value form) to the names hardkms declares. */
export function normalizeTatumArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === '--') {
      out.push(...argv.slice(out.length));
      break;
    }
    const eq = a.indexOf('=');
    const name = eq === -1 ? a : a.slice(0, eq);
    const alias = KEBAB_ALIASES[name];
    out.push(alias === undefined ? a : alias + (eq === -1 ? '' : a.slice(eq)));
  }
  return out;
}
