import { Command } from 'commander';
import { envHelpLines } from '../config/env.js';
import { chainSupportLines } from '../signer/source/chain-support.js';
import { VERSION } from '../version.js';
import { modulesFor, registerCommandLines, registerModules } from './commands.js';

export function baseProgram(): Command {
  return new Command()
    .name('hardkms')
    .description('Hardware-backed key management and transaction signer, compatible with Tatum KMS')
    .version(VERSION)
    .configureOutput({ outputError: () => {} }) // usage errors are printed as JSON by main()
    .addHelpText('after', `\n${chainSupportLines().join('\n')}\n\n${envHelpLines().join('\n')}\n`)
    .exitOverride();
}

/**
 * The program for this argv: the command files of the command it names, else (help,
 * --version, no or an unknown command) the help lines of every command, so that start-up
 * costs only what the command uses.
 */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const modules = modulesFor(argv);
  const program = baseProgram();
  if (modules === undefined) registerCommandLines(program);
  else await registerModules(program, modules);
  return program;
}
