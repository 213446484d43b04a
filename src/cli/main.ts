#!/usr/bin/env node
import { CommanderError } from 'commander';
import { normalizeTatumArgv } from './flags.js';
import { printError, printUsageError } from './output.js';
import { programFor } from './program.js';
import { installSignalHandling } from './signals.js';

export async function main(argv: string[]): Promise<number> {
  try {
    const args = normalizeTatumArgv(argv);
    const program = await programFor(args);
    // `tatum-kms` with no command prints its help on stdout and exits 0; so does hardkms.
    if (argv.length <= 2) {
      process.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync(args);
    // A command may end non-zero without an error (import-legacy: some wallets skipped).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return printUsageError(e, argv);
    return printError(e);
  }
}

installSignalHandling();
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = printError(e);
  },
);
