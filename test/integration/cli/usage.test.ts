import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

const path = join(mkdtempSync(join(tmpdir(), 'hardkms-usage-')), 'wallet.dat');

describe('usage errors, --output and completion', () => {
  it('a usage error is one JSON error line like every other error, no help dump', async () => {
    const cases: Array<{ args: string[]; code: number; error: RegExp; hint: RegExp }> = [
      {
        args: ['getaddress', 'id', '0', '--pth', 'x'],
        code: 2,
        error: /^Unknown option '--pth' \(Did you mean --path\?\)$/,
        hint: /hardkms getaddress --help/,
      },
      {
        args: ['getaddress'],
        code: 2,
        error: /^Missing required argument 'signatureId'\.$/,
        hint: /hardkms getaddress --help/,
      },
      {
        args: ['init', '--yubikeys'],
        code: 2,
        error: /^Option '--yubikeys <n>' argument missing\.$/,
        hint: /hardkms init --help/,
      },
      { args: ['nosuch'], code: 255, error: /^Unknown command 'nosuch'\.$/, hint: /hardkms --help/ },
      { args: ['audit', 'nope'], code: 255, error: /^Unknown command 'nope'\.$/, hint: /hardkms audit --help/ },
    ];
    for (const c of cases) {
      const r = await runCli(c.args);
      expect(r.code, c.args.join(' ')).toBe(c.code);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.error()).toMatchObject({
        code: 'USAGE',
        error: expect.stringMatching(c.error),
        hint: expect.stringMatching(c.hint),
      });
      expect(r.stderr).not.toContain('Usage:');
    }
    // Help asked for is still help, on stdout, exit 0.
    const help = await runCli(['getaddress', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hardkms getaddress/);
  });

  it('--output json|text on every command: JSON by default (as Tatum prints it), readable lines with text, anything else refused', async () => {
    const json = await runCli(['generatewallet', 'BTC', '--path', path]);
    expect(Object.keys(json.json() as object)).toEqual(['mnemonic', 'xpub']);
    const text = await runCli(['generatewallet', 'BTC', '--output', 'text', '--path', path]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^mnemonic: (\w+ ){23}\w+\nxpub: {5}xpub\w+\n$/);

    // checkconfig prints text, as Tatum KMS does; --output json gives the same pairs.
    const cfg = await runCli(['checkconfig', '--output', 'json', '--path', path]);
    expect(cfg.json()).toMatchObject({ 'Wallet file path': path, 'Wallet exists': 'false' });
    expect((await runCli(['checkconfig', '--path', path])).stdout).toContain(`Wallet file path: ${path}\n`);

    const bad = await runCli(['generatewallet', 'BTC', '--output', 'yaml', '--path', path]);
    expect(bad.code).not.toBe(0);
    expect(bad.error()).toMatchObject({ code: 'INVALID_INPUT' });
    expect(bad.stdout).toBe('');
  });

  it('hardkms completion bash|zsh completes commands, subcommands and the flags each command really has', async () => {
    const bash = await runCli(['completion', 'bash']);
    expect(bash.code, bash.stderr).toBe(0);
    const script = join(mkdtempSync(join(tmpdir(), 'hardkms-completion-')), 'hardkms.bash');
    writeFileSync(script, bash.stdout);
    const complete = (line: string): string[] => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          'source "$1"; read -ra COMP_WORDS <<< "$2"; [ "${2: -1}" = " " ] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _hardkms; printf "%s\\n" "${COMPREPLY[@]}"',
          'x',
          script,
          line,
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete('hardkms getad')).toEqual(['getaddress']);
    expect(complete('hardkms audit ')).toEqual(['export', 'verify', 'report', 'show', 'withdrawals']);
    expect(complete('hardkms audit verify --pu')).toEqual(['--pubkey']);
    expect(complete('hardkms daemon --metrics')).toEqual(['--metrics-addr']);
    // Flags a command does not have, and hidden ones (Tatum's shared flags it ignores), are not offered.
    expect(complete('hardkms getaddress --')).not.toContain('--metrics-addr');
    expect(complete('hardkms getaddress --')).not.toContain('--runOnce');
    expect(complete('hardkms getaddress --')).toContain('--path');

    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -o default -F _hardkms hardkms');
    expect((await runCli(['completion', 'fish'])).error()).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('per-command help lists only the flags that apply there', async () => {
    const verify = (await runCli(['audit', 'verify', '--help'])).stdout;
    for (const flag of ['--otp', '--apiKey', '--envFile', '--testnet']) expect(verify).not.toContain(flag);
    expect(verify).toContain('--pubkey');
    const daemon = (await runCli(['daemon', '--help'])).stdout;
    for (const flag of ['--otp', '--apiKey', '--envFile', '--testnet']) expect(daemon).toContain(flag);
    expect((await runCli(['getaddress', '--help'])).stdout).toContain('--otp');
  });
});
