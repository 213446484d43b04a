import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { decodeRecoveryWords } from '../../../src/gate/recovery-testing.js';
import {
  assignRecipients,
  parseRecoveryRecipients,
  recoveryTarget,
  sealRecoveryFiles,
  writeRecoveryFiles,
} from '../../../src/gate/recovery-out.js';

async function pair(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

describe('recovery share files (--recovery-out / --recovery-to)', () => {
  it('parses labelled and ordered recipients, and recipient files; refuses what is not an age recipient', async () => {
    const a = await pair();
    const b = await pair();
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-rcpt-'));
    writeFileSync(join(dir, 'bob.pub'), `# created: now\n# public key: ${b.recipient}\n${b.recipient}\n`);
    expect(parseRecoveryRecipients(`alice=${a.recipient}, bob=${join(dir, 'bob.pub')}`).byLabel).toEqual(
      new Map([
        ['alice', a.recipient],
        ['bob', b.recipient],
      ]),
    );
    expect(parseRecoveryRecipients(`${a.recipient},${b.recipient}`).ordered).toEqual([a.recipient, b.recipient]);
    expect(() => parseRecoveryRecipients(`alice=${a.recipient},${b.recipient}`)).toThrow(/mixes/);
    expect(() => parseRecoveryRecipients(`alice=${a.recipient},alice=${b.recipient}`)).toThrow(/twice/);
    expect(() => parseRecoveryRecipients(`alice=${a.recipient.slice(0, -1)}`)).toThrow(
      expect.objectContaining({ code: 'RECOVERY_RECIPIENT_INVALID' }),
    );
    expect(() => parseRecoveryRecipients(`alice=${a.identity}`)).toThrow(
      expect.objectContaining({ code: 'RECOVERY_RECIPIENT_INVALID' }),
    );
  });

  it('every operator needs exactly one recipient', async () => {
    const a = await pair();
    expect(() => assignRecipients(['alice', 'bob'], { byLabel: new Map([['alice', a.recipient]]) })).toThrow(
      /no recipient for bob/,
    );
    expect(() =>
      assignRecipients(['alice'], {
        byLabel: new Map([
          ['alice', a.recipient],
          ['mallory', a.recipient],
        ]),
      }),
    ).toThrow(/mallory, who hold no key/);
    expect(() => assignRecipients(['alice', 'bob'], { ordered: [a.recipient] })).toThrow(
      /1 recipients, but there are 2 operators/,
    );
  });

  it('writes one 0600 file per operator that only its operator opens, holding the share words', async () => {
    const ops = [await pair(), await pair()];
    const dir = join(mkdtempSync(join(tmpdir(), 'hardkms-rout-')), 'shares');
    const target = recoveryTarget(dir, ops.map((o) => o.recipient).join(','));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const shares = [
      { credentialId: 'yk-00000001', label: 'alice', share: randomBytes(49), format: 1 as const },
      { credentialId: 'yk-00000002', label: 'b/o b', share: randomBytes(49), format: 1 as const },
    ];
    const sealed = await sealRecoveryFiles(shares, target, { vaultId: 'v-1', threshold: 2, command: 'init' });
    const written = writeRecoveryFiles(target.dir, sealed);
    expect(written.map((w) => w.file.slice(dir.length + 1))).toEqual([
      'recovery-alice-yk-00000001.age',
      'recovery-b_o_b-yk-00000002.age',
    ]);
    expect(readdirSync(dir).sort()).toEqual(written.map((w) => w.file.slice(dir.length + 1)).sort());
    for (const [i, w] of written.entries()) {
      expect(statSync(w.file).mode & 0o777).toBe(0o600);
      const mine = new Decrypter();
      mine.addIdentity(ops[i]!.identity);
      const sheet = await mine.decrypt(readFileSync(w.file));
      expect(
        decodeRecoveryWords(Buffer.from(sheet).subarray(Buffer.from(sheet).indexOf('\n\n') + 2)).equals(
          shares[i]!.share,
        ),
      ).toBe(true);
      const other = new Decrypter();
      other.addIdentity(ops[1 - i]!.identity);
      await expect(other.decrypt(readFileSync(w.file))).rejects.toThrow();
    }
  });
});
