import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { createTestToken, TEST_PIN, type TestToken } from './softhsm.js';

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
  /** Where ceremonies write the operators' encrypted share files (--recovery-out). */
  readonly recoveryDir: string;
  /** The operators' age identities: the i-th key of a ceremony's result gets the i-th. */
  private readonly operators: Array<{ identity: string; recipient: string }> = [];

  constructor() {
    this.token = createTestToken('hardkms', { setProcessEnv: false });
    this.dir = mkdtempSync(join(tmpdir(), 'hardkms-gate-cli-'));
    this.keys = join(this.dir, 'keys');
    this.aside = join(this.dir, 'aside');
    mkdirSync(this.aside);
    this.path = join(this.dir, 'wallet.dat');
    this.recoveryDir = join(this.dir, 'recovery');
    this.env = { ...this.token.env, HARDKMS_TOKEN_PIN: TEST_PIN, HARDKMS_YUBIKEY_EMULATOR_DIR: this.keys };
  }

  /**
   * Ceremonies that make recovery shares get --recovery-out/--recovery-to (one age identity
   * per key, in key order) unless the test passes them itself or `recovery: false`.
   */
  async cli(
    args: string[],
    opts: { input?: string; env?: Record<string, string | undefined>; path?: string; recovery?: false } = {},
  ): Promise<CliResult> {
    const extra =
      opts.recovery === false || args.includes('--recovery-out')
        ? []
        : await this.recoveryArgs(args, opts.path ?? this.path);
    return runCli([...args, ...extra, '--path', opts.path ?? this.path], {
      env: { ...this.env, ...opts.env },
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  async recoveryArgs(args: string[], path = this.path): Promise<string[]> {
    const flag = (f: string): string | undefined => {
      const i = args.indexOf(f);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const current = (): number | undefined => {
      try {
        const seal = this.sealRecord(path);
        return seal.provider === 'yubikey' ? seal.credentials.length : undefined;
      } catch {
        return undefined;
      }
    };
    let n: number | undefined;
    const keys = current();
    if (args[0] === 'init') n = flag('--yubikeys') === undefined ? undefined : Number(flag('--yubikeys'));
    else if (args[0] === 'enroll' && keys !== undefined) n = keys + 1;
    else if (args[0] === 'revoke' && keys !== undefined) n = keys - 1;
    else if (args[0] === 'rotate') n = keys;
    else if (args[0] === 'recover') n = flag('--yubikeys') === undefined ? keys : Number(flag('--yubikeys'));
    if (n === undefined || !Number.isSafeInteger(n) || n < 1) return [];
    while (this.operators.length < n) {
      const identity = await generateX25519Identity();
      this.operators.push({ identity, recipient: await identityToRecipient(identity) });
    }
    return [
      '--recovery-out',
      this.recoveryDir,
      '--recovery-to',
      this.operators
        .slice(0, n)
        .map((o) => o.recipient)
        .join(','),
    ];
  }

  /** The shares a ceremony wrote (its JSON names the files), decrypted as their operators would, one string of words each. */
  async recoveryShares(result: CliResult): Promise<string[]> {
    const files = (result.json() as { recoveryFiles?: Array<{ file: string; recipient: string }> }).recoveryFiles ?? [];
    const out: string[] = [];
    for (const f of files) {
      const op = this.operators.find((o) => o.recipient === f.recipient);
      if (!op) throw new Error(`no identity for ${f.recipient}`);
      const d = new Decrypter();
      d.addIdentity(op.identity);
      out.push(sheetWords(await d.decrypt(readFileSync(f.file), 'text')));
    }
    return out;
  }

  /**
   * `init` of an emulated-YubiKey gate, checked and its serials learnt: one key per label,
   * `threshold` of them to unseal (default all of them).
   */
  async init(
    labels: string[],
    opts: { threshold?: number; flags?: string[]; input?: string; mainnet?: true } = {},
  ): Promise<CliResult> {
    const r = await this.cli(gateInitArgs(labels, opts), opts.input === undefined ? {} : { input: opts.input });
    expectOk(r);
    this.learn(r);
    return r;
  }

  /** A new managed wallet of `chain` (testnet unless `mainnet`); its signatureId. */
  async wallet(chain: string, opts: { mainnet?: true } = {}): Promise<string> {
    const r = await this.cli(['generatemanagedwallet', chain, ...(opts.mainnet ? [] : ['--testnet'])]);
    expectOk(r);
    return (r.json() as { signatureId: string }).signatureId;
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

  sealRecord(path = this.path): Record<string, unknown> & {
    provider: string;
    credentials: Array<Record<string, unknown> & { id: string; serial: number; challenge: string }>;
  } {
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

/** The words of one decrypted share file (the numbered lines), numbers dropped. */
function sheetWords(sheet: string): string {
  const words = sheet
    .split('\n')
    .filter((l) => /^\s+\d+\. /.test(l))
    .flatMap((l) => l.split(/\s+/).filter((w) => w !== '' && !/^\d+\.$/.test(w)));
  return words.join(' ');
}

/**
 * The arguments of `init` for an emulated gate: a testnet vault, or a mainnet one that allows
 * the emulator (`mainnet`); `flags` go before --labels.
 */
export function gateInitArgs(
  labels: string[],
  opts: { threshold?: number; flags?: string[]; mainnet?: true } = {},
): string[] {
  return [
    'init',
    ...(opts.mainnet ? [] : ['--testnet']),
    '--yubikeys',
    String(labels.length),
    '--threshold',
    String(opts.threshold ?? labels.length),
    '--driver',
    'emulator',
    ...(opts.mainnet ? ['--allow-emulated-yubikey'] : []),
    ...(opts.flags ?? []),
    '--labels',
    labels.join(','),
  ];
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
