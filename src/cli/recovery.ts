import { closeSync, openSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { HardkmsError, InputError } from '../errors.js';
import { wipeRecovery, type GateSealResult, type RecoveryShare } from '../gate/index.js';
import { recoveryWordsBuffer } from '../gate/recovery.js';
import {
  assignRecipients,
  RECOVERY_OUT_FLAG,
  RECOVERY_TO_FLAG,
  recoveryTarget,
  sealRecoveryFiles,
  writeRecoveryFiles,
  type RecoveryFileTarget,
  type SealedRecoveryFile,
} from '../gate/recovery-out.js';
import { note, warn } from './output.js';
import { readLine } from './prompt.js';

/**
 * Where a ceremony's new recovery shares go: files encrypted per operator (--recovery-out),
 * or the terminal, one operator at a time. Never stdout/stderr, which services, containers
 * and CI capture (issue 9, item 5). Decided before the ceremony touches anything.
 */

export type RecoveryDestination = { kind: 'files'; target: RecoveryFileTarget } | { kind: 'terminal' };

export interface PreparedRecovery {
  /** After the ceremony is committed: write the files, or show the shares; wipes them. */
  deliver(): Promise<Record<string, unknown>>;
}

export function recoveryFlags(cmd: Command): Command {
  return cmd
    .option(
      `${RECOVERY_OUT_FLAG} <dir>`,
      "write each operator's new recovery share to DIR, encrypted to that operator (needs --recovery-to)",
    )
    .option(
      `${RECOVERY_TO_FLAG} <list>`,
      'age recipients of the share files: label=age1...,label=age1... (or one per key, in key order)',
    );
}

export function recoveryDestination(opts: Record<string, unknown>): RecoveryDestination {
  const to = typeof opts.recoveryTo === 'string' ? opts.recoveryTo : undefined;
  if (typeof opts.recoveryOut === 'string') return { kind: 'files', target: recoveryTarget(opts.recoveryOut, to) };
  if (to !== undefined)
    throw new InputError(`${RECOVERY_TO_FLAG} applies to ${RECOVERY_OUT_FLAG} DIR.`, `Add ${RECOVERY_OUT_FLAG} DIR.`);
  if (!process.stdin.isTTY || !process.stderr.isTTY || !canOpenTerminal()) {
    throw new HardkmsError(
      'RECOVERY_OUT_REQUIRED',
      'This ceremony makes new recovery shares, and there is no terminal to show them on: they are never written to stdout or stderr, which logs capture.',
      {
        hint: `Add ${RECOVERY_OUT_FLAG} DIR ${RECOVERY_TO_FLAG} label=age1...,… (one file per operator, encrypted to that operator), or run the command in a terminal.`,
      },
    );
  }
  return { kind: 'terminal' };
}

function canOpenTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Before the commit: share files are encrypted now (a recipient that does not fit stops the
 * ceremony with nothing changed). The caller wipes `result.recoveryShares` in its finally.
 */
export async function prepareRecovery(
  dest: RecoveryDestination,
  result: GateSealResult,
  about: { vaultId: string; command: string },
): Promise<PreparedRecovery> {
  const threshold = result.record.threshold;
  if (dest.kind === 'files') {
    let sealed: SealedRecoveryFile[];
    try {
      sealed = await sealRecoveryFiles(result.recoveryShares, dest.target, { ...about, threshold });
    } finally {
      wipeRecovery(result.recoveryShares);
    }
    return {
      deliver: () => {
        const files = writeRecoveryFiles(dest.target.dir, sealed);
        note(
          `New recovery shares: one file per operator in ${dest.target.dir}, each encrypted to its operator (decrypt: age -d -i KEY FILE). Any ${threshold} rebuild the vault secret; destroy older share files and sheets.`,
        );
        return Promise.resolve({ recoveryFiles: files });
      },
    };
  }
  return {
    deliver: async () => {
      try {
        await showOnTerminal(result.recoveryShares, threshold, about.vaultId);
      } finally {
        wipeRecovery(result.recoveryShares);
      }
      return { recoveryShares: 'shown on the terminal, one operator at a time' };
    },
  };
}

/** One share at a time, on the terminal itself (not stderr), each after its operator asks; cleared after. */
async function showOnTerminal(shares: readonly RecoveryShare[], threshold: number, vaultId: string): Promise<void> {
  const fd = openSync('/dev/tty', 'r+');
  const say = (text: string | Buffer): void => {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  };
  try {
    say(
      [
        '',
        `RECOVERY SHARES of vault ${vaultId}: ${shares.length} shares, any ${threshold} rebuild the vault secret without a YubiKey.`,
        'Each operator in turn comes to this terminal alone, shows their share, writes it on paper and clears the screen.',
        'No photos, cloud, password managers or other computers. Destroy older sheets: new shares replace them.',
        '',
      ].join('\n'),
    );
    for (const [i, s] of shares.entries()) {
      for (;;) {
        say(
          `Operator ${s.label} (share ${i + 1} of ${shares.length}): with no one else looking, type "show" and Enter: `,
        );
        if ((await readLine('')).toLowerCase() === 'show') break;
      }
      const words = recoveryWordsBuffer(s.share, 6, s.format);
      try {
        say(`\nShare ${i + 1} of ${shares.length}: ${s.label} (credential ${s.credentialId})\n`);
        say(words);
        say('\n\nWrite it down, then press Enter to clear the screen: ');
      } finally {
        words.fill(0);
      }
      await readLine('');
      // Clear screen and scrollback, so the next operator does not scroll back to it.
      say('\x1b[2J\x1b[3J\x1b[H');
    }
    say(
      `To recover: \`hardkms recover\` and type ${threshold} shares, each on one line (the numbers may be left out).\n`,
    );
  } catch (e) {
    warn('The recovery shares were not all shown: run `hardkms rotate` to make new ones.');
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** Before any touch: the recipients fit the operators the ceremony will leave (files only). */
export function checkRecipients(dest: RecoveryDestination, labels: readonly string[]): void {
  if (dest.kind === 'files') assignRecipients(labels, dest.target.recipients);
}
