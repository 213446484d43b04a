/**
 * The people the demo plays: operators with their own age key pair (the public half is
 * given to the ceremony, the private half opens their recovery share file) and their
 * emulated YubiKeys (files in a folder hardkms reads; unplugging one moves it out).
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { DemoShell } from './demo-shell.js';

export class Operators {
  private readonly keys = new Map<string, { identity: string; recipient: string }>();

  /** `sharesDir`: where the ceremonies write the share files (--recovery-out). */
  constructor(
    private readonly shell: DemoShell,
    readonly sharesDir: string,
  ) {}

  private async key(label: string): Promise<{ identity: string; recipient: string }> {
    let k = this.keys.get(label);
    if (!k) {
      const identity = await generateX25519Identity();
      k = { identity, recipient: await identityToRecipient(identity) };
      this.keys.set(label, k);
      this.shell.secret(identity);
    }
    return k;
  }

  /** --recovery-out DIR --recovery-to label=age1...,… for these operators. */
  async recoveryArgs(labels: readonly string[]): Promise<string[]> {
    const to: string[] = [];
    for (const l of labels) to.push(`${l}=${(await this.key(l)).recipient}`);
    return ['--recovery-out', this.sharesDir, '--recovery-to', to.join(',')];
  }

  /** What one operator does with their file: decrypt it with their own key. The words go on paper (here: to the secret scan). */
  async openShareFile(file: string, label: string): Promise<string> {
    const d = new Decrypter();
    d.addIdentity((await this.key(label)).identity);
    const sheet = await d.decrypt(readFileSync(file), 'text');
    const words = sheet
      .split('\n')
      .filter((l) => /^\s+\d+\.\s/.test(l))
      .flatMap((l) => l.split(/\s+/).filter((w) => w !== '' && !/^\d+\.$/.test(w)))
      .join(' ');
    for (const l of sheet.split('\n')) if (/^\s+\d+\.\s/.test(l)) this.shell.secret(l.trim());
    this.shell.secret(words);
    return words;
  }
}

/** Emulated YubiKeys (HARDKMS_YUBIKEY_EMULATOR_DIR): a key is plugged in while its file is in `pluggedDir`. */
export class EmulatedYubiKeys {
  constructor(
    readonly pluggedDir: string,
    private readonly unpluggedDir: string,
  ) {}

  private file(serial: number, plugged: boolean): string {
    return join(plugged ? this.pluggedDir : this.unpluggedDir, `${serial}.key`);
  }

  unplug(serial: number): void {
    renameSync(this.file(serial, true), this.file(serial, false));
  }

  plugIn(serial: number): void {
    if (existsSync(this.file(serial, false))) renameSync(this.file(serial, false), this.file(serial, true));
  }
}
