import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { runCli, type CliResult } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

/**
 * One SoftHSM2 token, one vault directory and one emulator key directory, driven through
 * the built CLI. "Unplugging" a YubiKey moves its key file aside; "plugging" moves it back.
 */
export class GateBench {
  readonly token: TestToken;
  readonly dir: string;
  readonly keys: string;
  readonly aside: string;
  readonly path: string;
  readonly env: Record<string, string>;
  /** Serial by label, for every key this bench created through init/enroll/recover. */
  readonly serials: Record<string, number> = {};

  constructor() {
    this.token = createTestToken('hardkms', { setProcessEnv: false });
    this.dir = mkdtempSync(join(tmpdir(), 'hardkms-gate-cli-'));
    this.keys = join(this.dir, 'keys');
    this.aside = join(this.dir, 'aside');
    mkdirSync(this.aside);
    this.path = join(this.dir, 'wallet.dat');
    this.env = { ...this.token.env, HARDKMS_TOKEN_PIN: TEST_PIN, HARDKMS_YUBIKEY_EMULATOR_DIR: this.keys };
  }

  cli(args: string[], opts: { input?: string; env?: Record<string, string | undefined>; path?: string } = {}): Promise<CliResult> {
    return runCli([...args, '--path', opts.path ?? this.path], {
      env: { ...this.env, ...opts.env },
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  /** Records the serials of a gate JSON result ({gate: {credentials}}) by label. */
  learn(result: CliResult): void {
    const gate = (result.json() as { gate: { credentials: Array<{ label: string; serial: number }> } }).gate;
    for (const c of gate.credentials) this.serials[c.label] = c.serial;
  }

  keyFile(label: string): string {
    return join(this.keys, `${this.serials[label]}.key`);
  }

  /** Leaves exactly these labelled keys plugged in (others created by the bench are moved aside). */
  only(...labels: string[]): void {
    for (const [label, serial] of Object.entries(this.serials)) {
      const inDir = join(this.keys, `${serial}.key`);
      const out = join(this.aside, `${serial}.key`);
      if (labels.includes(label) && !existsSync(inDir) && existsSync(out)) renameSync(out, inDir);
      if (!labels.includes(label) && existsSync(inDir)) renameSync(inDir, out);
    }
  }

  presentKeyFiles(): string[] {
    return existsSync(this.keys) ? readdirSync(this.keys).sort() : [];
  }

  sealRecord(
    path = this.path,
  ): Record<string, unknown> & { provider: string; credentials: Array<Record<string, unknown> & { id: string; serial: number; challenge: string }> } {
    const db = new Database(path, { readonly: true });
    try {
      return JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'seal'").get() as { value: string }).value);
    } finally {
      db.close();
    }
  }

  auditEvents(): Array<{ event: string; result: string; details: Record<string, unknown>; sig: string | null }> {
    return readFileSync(join(this.dir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  }
}

/** The recovery shares printed on stderr, one string of words per share (numbers dropped). */
export function recoveryShares(stderr: string): string[] {
  const shares: string[] = [];
  let current: string[] | undefined;
  for (const line of stderr.split('\n')) {
    if (/^Share \d+ of \d+: /.test(line)) {
      current = [];
      shares.push('');
      continue;
    }
    if (current && /^\s+\d+\. /.test(line)) {
      current.push(...line.split(/\s+/).filter((w) => w !== '' && !/^\d+\.$/.test(w)));
      shares[shares.length - 1] = current.join(' ');
      continue;
    }
    current = undefined;
  }
  return shares;
}

export function expectError(r: CliResult, code: string, text?: RegExp | string): void {
  expect(r.code, r.stderr).not.toBe(0);
  const e = r.error();
  expect(e.code, r.stderr).toBe(code);
  if (typeof text === 'string') expect(e.error).toBe(text);
  else if (text) expect(e.error).toMatch(text);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

export function expectOk(r: CliResult): void {
  expect(r.code, r.stderr).toBe(0);
}
