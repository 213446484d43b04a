import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { wordlists } from 'bip39';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectOk, gateInitArgs, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 5, "5b"): every recovery share was printed to one stderr. Run the
 * way services and scripts run (systemd/journald, `docker logs`, a CI job, `2>&1 | tee`),
 * that stream is captured: whoever reads the log holds all N operators' sheets and, with
 * wallet.dat and the token, rebuilds the vault secret without a single YubiKey.
 * Must hold: a share never reaches a stream that may be logged. `--recovery-out DIR`
 * writes one file per operator, encrypted to that operator's age recipient; without it a
 * share is shown only on a terminal, one operator at a time; with neither, the ceremony
 * is refused before anything changes.
 */

const BIP39 = new Set(wordlists.english!);

/** What the log reader looks for: runs of 12 or more BIP39 words (sheet numbering "1." skipped). */
function sharesIn(log: string): string[] {
  const runs: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length >= 12) runs.push(run.join(' '));
    run = [];
  };
  for (const line of log.split('\n')) {
    const words = line.split(/\s+/).filter((w) => w !== '' && !/^\d+[.):]?$/.test(w));
    if (words.length === 0 || !words.every((w) => BIP39.has(w))) {
      flush();
      continue;
    }
    run.push(...words);
    // A sheet line holds at most 6 words: a share is the lines up to the next non-word line.
  }
  flush();
  return runs;
}

interface Operator {
  identity: string;
  recipient: string;
}

async function operator(): Promise<Operator> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

async function open(file: string, identity: string): Promise<string> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d.decrypt(readFileSync(file), 'text');
}

/** The words of a decrypted sheet: the one line that is only BIP39 words. */
function wordsOf(sheet: string): string {
  const found = sharesIn(sheet);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const INIT = gateInitArgs(['alice', 'bob', 'carol'], { threshold: 2 });

describe('attack: recovery shares read from a captured log', () => {
  it('init run as a service runs it (stdout and stderr captured): the log does not recover the vault', async () => {
    const bench = new GateBench();
    const init = await bench.cli(INIT, { recovery: false });
    const log = init.stdout + init.stderr;
    const stolen = sharesIn(log);
    // The attacker: every key lost (or never touched), two sheets from the log, wallet.dat and the token.
    let outcome = 'no vault';
    if (init.code === 0) {
      bench.learn(init);
      bench.only();
      const r = await bench.cli(['recover', '--labels', 'mallory,trent,walter'], {
        input: `${stolen.slice(0, 2).join('\n')}\n`,
        recovery: false,
      });
      outcome = r.code === 0 ? 'recovered' : r.error().code;
    }
    expect(outcome).not.toBe('recovered');
    expect(stolen).toEqual([]);
    // Refused before anything was created: no shares to lose, no vault without recovery.
    expectError(init, 'RECOVERY_OUT_REQUIRED', /terminal/);
    expect(existsSync(bench.path)).toBe(false);
    expect(bench.presentKeyFiles()).toEqual([]);
  });

  describe('with --recovery-out', () => {
    const bench = new GateBench();
    const ops: Record<string, Operator> = {};
    const out = mkdtempSync(join(tmpdir(), 'hardkms-recovery-out-'));
    let log = '';
    let files: Array<{ label: string; credential: string; file: string }> = [];

    beforeAll(async () => {
      for (const l of ['alice', 'bob', 'carol', 'dave', 'erin']) ops[l] = await operator();
      const to = ['alice', 'bob', 'carol'].map((l) => `${l}=${ops[l]!.recipient}`).join(',');
      const init = await bench.cli([...INIT, '--recovery-out', out, '--recovery-to', to], { recovery: false });
      expectOk(init);
      bench.learn(init);
      log = init.stdout + init.stderr;
      files = (init.json() as { recoveryFiles: typeof files }).recoveryFiles;
    });

    it('the log holds no share; one file per operator, mode 0600, each opens only with its own identity', async () => {
      expect(sharesIn(log)).toEqual([]);
      expect(files.map((f) => f.label)).toEqual(['alice', 'bob', 'carol']);
      expect(readdirSync(out).sort()).toEqual(files.map((f) => f.file.slice(out.length + 1)).sort());
      for (const f of files) {
        const { mode } = await import('node:fs').then((fs) => fs.statSync(f.file));
        expect(mode & 0o777).toBe(0o600);
        expect(readFileSync(f.file, 'latin1')).toMatch(/^age-encryption\.org\/v1\n/);
        expect(wordsOf(await open(f.file, ops[f.label]!.identity)).split(' ').length).toBeGreaterThanOrEqual(12);
        for (const other of ['alice', 'bob', 'carol'].filter((l) => l !== f.label)) {
          await expect(open(f.file, ops[other]!.identity)).rejects.toThrow();
        }
      }
    });

    it("the log plus one operator's file is not a quorum; two operators' files recover", async () => {
      bench.only();
      const alice = wordsOf(await open(files[0]!.file, ops.alice!.identity));
      const one = await bench.cli(['recover', '--labels', 'dave,erin,frank'], {
        input: `${[alice, ...sharesIn(log)].join('\n')}\n`,
        recovery: false,
      });
      expect(one.code).not.toBe(0);
      const bob = wordsOf(await open(files[1]!.file, ops.bob!.identity));
      const to = `dave=${ops.dave!.recipient},erin=${ops.erin!.recipient},frank=${ops.carol!.recipient}`;
      const two = await bench.cli(
        ['recover', '--labels', 'dave,erin,frank', '--recovery-out', out, '--recovery-to', to],
        {
          input: `${alice}\n${bob}\n`,
          recovery: false,
        },
      );
      expectOk(two);
      expect(sharesIn(two.stdout + two.stderr)).toEqual([]);
      expect(bench.sealRecord().credentials.map((c) => c.label)).toEqual(['dave', 'erin', 'frank']);
    });

    it('rotate without --recovery-out and without a terminal is refused and changes nothing', async () => {
      bench.only('dave', 'erin');
      const before = bench.sealRecord();
      const r = await bench.cli(['rotate'], { recovery: false });
      expectError(r, 'RECOVERY_OUT_REQUIRED');
      expect(sharesIn(r.stdout + r.stderr)).toEqual([]);
      expect(bench.sealRecord()).toEqual(before);
    });

    it('a recipient list that misses an operator is refused before any touch', async () => {
      bench.only('dave', 'erin');
      const before = bench.sealRecord();
      const r = await bench.cli(
        ['rotate', '--recovery-out', out, '--recovery-to', `dave=${ops.dave!.recipient},erin=${ops.erin!.recipient}`],
        {
          recovery: false,
        },
      );
      expectError(r, 'RECOVERY_RECIPIENT_MISSING', /frank/);
      expect(r.stderr).not.toMatch(/Touch the YubiKey/);
      expect(bench.sealRecord()).toEqual(before);
    });
  });
});
