import type { Command } from 'commander';

/** Tatum KMS's shared flags, plus ours; added to every command so they work after the command name. */
export function globalFlags(cmd: Command): Command {
  return cmd
    .option('--path <file>', 'wallet store (default ~/.hardkms/wallet.dat)')
    .option('--audit-log <file>', 'audit log (default audit.log beside the wallet store)')
    .option('--envFile <file>', 'env file to load (default ~/.hardkms/.env, after ./.env)')
    .option('--apiKey <key>', 'Tatum API key (prefer TATUM_API_KEY: argv is visible to other users)');
}
