import type { Command } from 'commander';
import { MODULE_ORDER, registerModules } from './commands.js';
import { baseProgram } from './program.js';

/** Every command file registered (what `--help` describes): tests compare it with the lazy registry. */
export async function fullProgram(): Promise<Command> {
  const program = baseProgram();
  await registerModules(program, MODULE_ORDER);
  return program;
}
