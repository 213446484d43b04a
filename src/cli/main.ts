#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAudit } from './audit.js';
import { registerDaemon } from './daemon.js';
import { registerInit } from './init.js';
import { gateInitOptions, registerGate } from './gate.js';
import { registerWalletCommands } from './wallets.js';
import { registerImportLegacy } from './import-legacy.js';
import { registerToken } from './token.js';
import { registerList } from './list.js';
import { normalizeTatumArgv } from './flags.js';
import { registerRebind } from './rebind.js';
import { printError } from './output.js';
import { chainSupportLines } from '../signer/chain-support.js';
import { installSignalHandling } from './signals.js';
import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('hardkms')
    .description('Hardware-backed key management and transaction signer, compatible with Tatum KMS')
    .version(VERSION)
    .showHelpAfterError()
    .addHelpText('after', `\n${chainSupportLines().join('\n')}\n`)
    .exitOverride();
  registerInit(program, gateInitOptions);
  registerAudit(program);
  registerWalletCommands(program);
  registerDaemon(program);
  registerImportLegacy(program);
  registerList(program);
  registerRebind(program);
  registerGate(program); // it adds --otp to every command registered before it
  registerToken(program); // after the gate: token check/repair never unseal
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    // `tatum-kms` with no command prints its help on stdout and exits 0; so does hardkms.
    if (argv.length <= 2) {
      process.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync(normalizeTatumArgv(argv));
    // A command may end non-zero without an error (import-legacy: some wallets skipped).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      if (e.code === 'commander.unknownCommand') return 255; // Tatum KMS exits -1 here
      return e.exitCode;
    }
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
