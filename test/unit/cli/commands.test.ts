import { Command as Program, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_LINES, MODULE_ORDER, modulesFor, registerModules } from '../../../src/cli/commands.js';
import { programFor } from '../../../src/cli/program.js';
import { fullProgram } from '../../../src/cli/program-testing.js';

const argv = (...args: string[]) => ['node', 'hardkms', ...args];

describe('lazy command registry (src/cli/commands.ts)', () => {
  it('help built from the command lines is exactly the help of every command file loaded', async () => {
    const light = await programFor(argv('--help'));
    const full = await fullProgram();
    expect(light.helpInformation()).toBe(full.helpInformation());
    // Each placeholder's term is what the real command shows.
    const help = full.createHelp();
    expect(COMMAND_LINES.map((l) => l.term)).toEqual(full.commands.map((c) => help.subcommandTerm(c)));
  });

  it('names, for each command, the one file that registers it', async () => {
    for (const module of MODULE_ORDER) {
      const p = new Program();
      await registerModules(p, [module]);
      const names = p.commands.map((c: Command) => c.name());
      expect(names, module).toEqual(COMMAND_LINES.filter((l) => l.module === module).map((l) => l.name));
    }
  });

  it('loads the command’s file and the gate for a command; nothing for help, --version or an unknown command', () => {
    expect(modulesFor(argv('getaddress', 'id', '0', '--path', 'x'))).toEqual(['wallets', 'gate']);
    expect(modulesFor(argv('status'))).toEqual(['gate']);
    expect(modulesFor(argv('token', 'check'))).toEqual(['gate', 'token']);
    expect(modulesFor(argv('help', 'daemon'))).toEqual(['daemon', 'gate']);
    expect(modulesFor(argv('daemon', '--help'))).toEqual(['daemon', 'gate']);
    for (const a of [argv(), argv('--help'), argv('-V'), argv('help'), argv('getadress', '1')])
      expect(modulesFor(a)).toBeUndefined();
  });

  it('a command run through the lazy program has the options of the full one (--otp from the gate included)', async () => {
    for (const line of COMMAND_LINES) {
      const lazy = await programFor(argv(line.name));
      const full = await fullProgram();
      const pick = (p: Command) => p.commands.find((c) => c.name() === line.name)!;
      expect(pick(lazy).helpInformation(), line.name).toBe(pick(full).helpInformation());
    }
  });
});
