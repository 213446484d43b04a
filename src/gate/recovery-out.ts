import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { HardkmsError, InputError } from '../errors.js';
import { recoveryWordsBuffer } from './recovery.js';
import type { RecoveryShare } from './yubikey-provider.js';

/**
 * Recovery shares for operators who are not at one terminal, in the manner of Vault's
 * `-pgp-keys`: each operator's share is written to its own file in `--recovery-out DIR`,
 * encrypted to that operator's age recipient (`--recovery-to`), so the share never passes
 * a stream that may be logged and no one but its operator can read it. The operator
 * decrypts it with `age -d -i their-key.txt FILE` (or rage, or any age implementation).
 *
 * The files are encrypted before the ceremony is committed (a wrong recipient then
 * changes nothing) and written after; they are replaced atomically, mode 0600.
 */

export const RECOVERY_OUT_FLAG = '--recovery-out';
export const RECOVERY_TO_FLAG = '--recovery-to';

/** An age X25519 recipient: "age1" and 58 bech32 characters. */
const AGE_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

interface RecoveryRecipients {
  /** label=recipient entries; or */
  byLabel?: Map<string, string>;
  /** recipients in the order of the keys after the ceremony (as `hardkms status` lists them). */
  ordered?: string[];
}

export interface RecoveryFileTarget {
  dir: string;
  recipients: RecoveryRecipients;
}

export interface SealedRecoveryFile {
  label: string;
  credentialId: string;
  recipient: string;
  name: string;
  data: Uint8Array;
}

interface WrittenRecoveryFile {
  label: string;
  credential: string;
  recipient: string;
  file: string;
}

function recipientError(message: string, hint?: string): HardkmsError {
  return new HardkmsError('RECOVERY_RECIPIENT_INVALID', message, {
    hint:
      hint ??
      `Give ${RECOVERY_TO_FLAG} as label=age1...,label=age1... (one per operator; a file holding an age1... line also works).`,
  });
}

/** One recipient: an age1... string, or the path of a file whose first non-comment line is one. */
function recipientOf(value: string, what: string): string {
  const v = value.trim();
  if (AGE_RECIPIENT.test(v)) return v;
  if (v.startsWith('age1'))
    throw recipientError(`${what}: '${v}' is not an age X25519 recipient (age1 and 58 bech32 characters).`);
  if (v !== '' && existsSync(v) && statSync(v).isFile()) {
    const line = readFileSync(v, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#'));
    if (line && AGE_RECIPIENT.test(line)) return line;
    throw recipientError(
      `${what}: the file ${v} does not start with an age recipient (age1...).`,
      'Give the public key (`age-keygen -y key.txt`), not the identity.',
    );
  }
  throw recipientError(`${what}: '${v}' is neither an age recipient (age1...) nor a file holding one.`);
}

/** Parses --recovery-to: all label=recipient entries, or all plain recipients (in key order). */
export function parseRecoveryRecipients(value: string): RecoveryRecipients {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw recipientError(`${RECOVERY_TO_FLAG} is empty.`);
  const labelled = entries.filter((e) => e.includes('='));
  if (labelled.length > 0 && labelled.length !== entries.length) {
    throw recipientError(`${RECOVERY_TO_FLAG} mixes label=recipient entries with plain recipients.`);
  }
  if (labelled.length === 0) return { ordered: entries.map((e, i) => recipientOf(e, `recipient ${i + 1}`)) };
  const byLabel = new Map<string, string>();
  for (const e of entries) {
    const eq = e.indexOf('=');
    const label = e.slice(0, eq).trim();
    if (label === '') throw recipientError(`${RECOVERY_TO_FLAG}: '${e}' has no label before '='.`);
    if (byLabel.has(label)) throw recipientError(`${RECOVERY_TO_FLAG} names the operator '${label}' twice.`);
    byLabel.set(label, recipientOf(e.slice(eq + 1), `recipient of '${label}'`));
  }
  return { byLabel };
}

/** Checked before the ceremony: the directory exists (or its parent does) and is ours to write. */
export function recoveryTarget(dir: string, recipients: string | undefined): RecoveryFileTarget {
  if (recipients === undefined) {
    throw new HardkmsError(
      'RECOVERY_RECIPIENT_MISSING',
      `${RECOVERY_OUT_FLAG} needs ${RECOVERY_TO_FLAG}: the share files are encrypted to each operator.`,
      {
        hint: `Add ${RECOVERY_TO_FLAG} label=age1...,label=age1... (each operator's age public key: \`age-keygen -o key.txt\` prints it).`,
      },
    );
  }
  const parsed = parseRecoveryRecipients(recipients);
  const abs = isAbsolute(dir) ? dir : resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new InputError(`${RECOVERY_OUT_FLAG} ${abs} is not a directory.`);
  } else {
    try {
      mkdirSync(abs, { mode: 0o700 });
    } catch (e) {
      throw new InputError(
        `${RECOVERY_OUT_FLAG} ${abs} cannot be created (${(e as NodeJS.ErrnoException).code ?? 'error'}).`,
        'Give a directory that exists or whose parent exists and is writable.',
      );
    }
  }
  const probe = join(abs, `.hardkms-probe-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (e) {
    throw new InputError(
      `${RECOVERY_OUT_FLAG} ${abs} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'}).`,
    );
  }
  return { dir: abs, recipients: parsed };
}

/**
 * Who gets which share (by the operators' labels, in key order), or why the list does not
 * fit: called before the ceremony's touches, and again when the shares are encrypted.
 */
export function assignRecipients(labels: readonly string[], r: RecoveryRecipients): string[] {
  const shares = labels.map((label) => ({ label }));
  if (r.ordered) {
    if (r.ordered.length !== shares.length) {
      throw new HardkmsError(
        'RECOVERY_RECIPIENT_MISSING',
        `${RECOVERY_TO_FLAG} lists ${r.ordered.length} recipients, but there are ${shares.length} operators (${shares.map((s) => s.label).join(', ')}).`,
        { hint: 'Give one recipient per key, in the order the keys are listed, or use label=recipient entries.' },
      );
    }
    return r.ordered;
  }
  const byLabel = r.byLabel!;
  const missing = shares.filter((s) => !byLabel.has(s.label)).map((s) => s.label);
  if (missing.length > 0) {
    throw new HardkmsError(
      'RECOVERY_RECIPIENT_MISSING',
      `${RECOVERY_TO_FLAG} has no recipient for ${missing.join(', ')}.`,
      {
        hint: `Add ${missing.map((l) => `${l}=age1...`).join(',')}: every operator gets a share.`,
      },
    );
  }
  const extra = [...byLabel.keys()].filter((l) => !shares.some((s) => s.label === l));
  if (extra.length > 0) {
    throw new HardkmsError(
      'RECOVERY_RECIPIENT_MISSING',
      `${RECOVERY_TO_FLAG} names ${extra.join(', ')}, who hold no key of this vault.`,
      {
        hint: `The operators are: ${shares.map((s) => s.label).join(', ')}.`,
      },
    );
  }
  return shares.map((s) => byLabel.get(s.label)!);
}

function fileName(s: RecoveryShare): string {
  const safe = s.label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `recovery-${safe}-${s.credentialId}.age`;
}

/** Encrypts each share to its operator; the plain sheets exist only inside this call. */
export async function sealRecoveryFiles(
  shares: readonly RecoveryShare[],
  target: RecoveryFileTarget,
  about: { vaultId: string; threshold: number; command: string },
): Promise<SealedRecoveryFile[]> {
  const recipients = assignRecipients(
    shares.map((s) => s.label),
    target.recipients,
  );
  // Loaded here, not at start-up: only ceremonies write recovery files, and every command loads this module.
  const { Encrypter } = await import('age-encryption');
  const out: SealedRecoveryFile[] = [];
  for (const [i, s] of shares.entries()) {
    const e = new Encrypter();
    e.addRecipient(recipients[i]!);
    const words = recoveryWordsBuffer(s.share, 6, s.format);
    const head = Buffer.from(
      [
        `hardkms recovery share for ${s.label} (credential ${s.credentialId})`,
        `vault ${about.vaultId}; any ${about.threshold} of ${shares.length} shares rebuild its secret (\`hardkms recover\`).`,
        `made by \`hardkms ${about.command}\` at ${new Date().toISOString()}; a later enroll/revoke/rotate/recover replaces it.`,
        '',
        '',
      ].join('\n'),
      'utf8',
    );
    const sheet = Buffer.concat([head, words, Buffer.from('\n')]);
    try {
      out.push({
        label: s.label,
        credentialId: s.credentialId,
        recipient: recipients[i]!,
        name: fileName(s),
        data: await e.encrypt(sheet),
      });
    } finally {
      words.fill(0);
      sheet.fill(0);
    }
  }
  return out;
}

/** Atomic replace of each file (write, fsync, rename), mode 0600, then the directory is synced. */
export function writeRecoveryFiles(dir: string, files: readonly SealedRecoveryFile[]): WrittenRecoveryFile[] {
  const written: WrittenRecoveryFile[] = [];
  for (const f of files) {
    const path = join(dir, f.name);
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, f.data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    written.push({ label: f.label, credential: f.credentialId, recipient: f.recipient, file: path });
  }
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
  return written;
}
