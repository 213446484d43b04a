import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CredentialRef, YubiKeyDriver } from '../../../src/gate/drivers/driver.js';
import { createEmulatedKey, EmulatorDriver } from '../../../src/gate/drivers/emulator.js';
import { reprogramEmulatedKey } from '../../../src/gate/drivers/emulator-testing.js';
import { gateStatus, type YubiKeySealRecord } from '../../../src/gate/seal-record.js';
import { encodeRecoveryWords } from '../../../src/gate/recovery-testing.js';
import {
  YubiKeyGateProvider,
  type GateCredentialSpec,
  type YubiKeyGateOptions,
} from '../../../src/gate/yubikey-provider.js';
import type { SealContext, VaultSecret } from '../../../src/vault/secret.js';

interface AuditEntry {
  event: string;
  result: 'ok' | 'fail';
  details?: Record<string, unknown>;
}

function context(mainnet = false): SealContext & { log: AuditEntry[] } {
  const log: AuditEntry[] = [];
  return {
    vaultId: 'vault-test-1',
    mainnet,
    log,
    audit: (event, result, details) => log.push({ event, result, ...(details ? { details } : {}) }),
  };
}

function newSecret(): VaultSecret {
  return { storeKey: randomBytes(32), tokenPin: Buffer.from(`pin-${randomBytes(4).toString('hex')}`) };
}

function sameSecret(a: VaultSecret, b: VaultSecret): boolean {
  return a.storeKey.equals(b.storeKey) && a.tokenPin.equals(b.tokenPin);
}

/** Emulator directory with named keys; unplug/plug move key files aside and back. */
class Bench {
  readonly dir = join(mkdtempSync(join(tmpdir(), 'hardkms-gate-')), 'keys');
  readonly aside = mkdtempSync(join(tmpdir(), 'hardkms-aside-'));
  readonly serials: Record<string, number> = {};
  async add(label: string): Promise<GateCredentialSpec> {
    this.serials[label] = (await createEmulatedKey(this.dir)).serial;
    return { label, serial: this.serials[label]!, driver: 'emulator' };
  }
  unplug(...labels: string[]) {
    for (const l of labels)
      renameSync(join(this.dir, `${this.serials[l]}.key`), join(this.aside, `${this.serials[l]}.key`));
  }
  plug(...labels: string[]) {
    for (const l of labels)
      renameSync(join(this.aside, `${this.serials[l]}.key`), join(this.dir, `${this.serials[l]}.key`));
  }
  only(...labels: string[]) {
    const all = Object.keys(this.serials);
    for (const l of all) {
      const inDir = (() => {
        try {
          readFileSync(join(this.dir, `${this.serials[l]}.key`));
          return true;
        } catch {
          return false;
        }
      })();
      if (labels.includes(l) && !inDir) this.plug(l);
      if (!labels.includes(l) && inDir) this.unplug(l);
    }
  }
  provider(opts: YubiKeyGateOptions = {}) {
    return new YubiKeyGateProvider({ driver: 'emulator', emulatorDir: this.dir, ...opts });
  }
}

describe('YubiKey gate, 2-of-3 with emulated keys', () => {
  const bench = new Bench();
  const secret = newSecret();
  let record: YubiKeySealRecord;
  let recoveryWords: string[][];
  const waits: string[] = [];

  beforeAll(async () => {
    const specs = [await bench.add('alice'), await bench.add('bob'), await bench.add('carol')];
    const ctx = context();
    const res = await bench
      .provider({ credentials: specs, threshold: 2, onWait: (m) => waits.push(m) })
      .sealWithRecovery(secret, ctx);
    record = res.record;
    recoveryWords = res.recoveryShares.map((r) => encodeRecoveryWords(r.share));
    expect(ctx.log.map((e) => `${e.event}:${e.result}`)).toEqual(['gate.seal:ok']);
  });

  it('records public data only, and asked each key for a touch', () => {
    expect(record).toMatchObject({
      provider: 'yubikey',
      version: 1,
      threshold: 2,
      driver: 'emulator',
      allowEmulated: false,
    });
    expect(record.credentials.map((c) => c.label)).toEqual(['alice', 'bob', 'carol']);
    expect(new Set(record.credentials.map((c) => c.challenge)).size).toBe(3);
    expect(waits).toEqual(
      ['alice', 'bob', 'carol'].map(
        (l) => `Touch the YubiKey ${l} (serial ${bench.serials[l]})… to enroll it in vault vault-test-1 for hardkms`,
      ),
    );
    const json = JSON.stringify(record);
    expect(json.includes(secret.storeKey.toString('hex'))).toBe(false);
    expect(gateStatus(record).credentials.map((c) => c.serial)).toEqual(
      ['alice', 'bob', 'carol'].map((l) => bench.serials[l]),
    );
  });

  it('any two keys unseal', async () => {
    for (const pair of [
      ['alice', 'bob'],
      ['alice', 'carol'],
      ['bob', 'carol'],
    ]) {
      bench.only(...pair);
      const ctx = context();
      const out = await bench.provider().unseal(record, ctx);
      expect(sameSecret(out, secret)).toBe(true);
      const done = ctx.log.find((e) => e.event === 'gate.unseal')!;
      expect(done.result).toBe('ok');
      expect(done.details).toMatchObject({ drivers: ['emulator', 'emulator'] });
    }
  });

  it('one key alone does not', async () => {
    bench.only('alice');
    const ctx = context();
    const err = bench.provider().unseal(record, ctx);
    await expect(err).rejects.toMatchObject({ code: 'GATE_QUORUM_NOT_MET' });
    await expect(err).rejects.toThrow(
      `Unsealing needs 2 of the 3 enrolled YubiKeys; 1 gave a valid response. Present: alice (serial ${bench.serials.alice}). Not present: bob (serial ${bench.serials.bob}), carol (serial ${bench.serials.carol}).`,
    );
    expect(ctx.log.at(-1)).toMatchObject({
      event: 'gate.unseal',
      result: 'fail',
      details: { error: 'GATE_QUORUM_NOT_MET' },
    });
  });

  it('an unenrolled key does not count and is audited', async () => {
    await bench.add('mallory');
    bench.only('alice', 'mallory');
    const ctx = context();
    await expect(bench.provider().unseal(record, ctx)).rejects.toThrow(
      `Present but not enrolled (ignored): serial ${bench.serials.mallory}.`,
    );
    expect(ctx.log).toContainEqual({
      event: 'gate.unseal.unenrolled',
      result: 'fail',
      details: { driver: 'emulator', serial: bench.serials.mallory },
    });
  });

  it('a wrong response fails that key only, with a clear message', async () => {
    const b2 = new Bench();
    const specs = [await b2.add('alice'), await b2.add('bob'), await b2.add('carol')];
    const s = newSecret();
    const rec = await b2.provider({ credentials: specs, threshold: 2 }).seal(s, context());
    await reprogramEmulatedKey(b2.dir, b2.serials.bob!);
    b2.only('alice', 'bob');
    const ctx = context();
    const p = b2.provider().unseal(rec, ctx);
    await expect(p).rejects.toMatchObject({ code: 'GATE_QUORUM_NOT_MET' });
    await expect(p).rejects.toThrow(
      `bob (serial ${b2.serials.bob}): The YubiKey bob did not give the enrolled response: wrong key, or re-programmed slot.`,
    );
    expect(ctx.log).toContainEqual(
      expect.objectContaining({
        event: 'gate.unseal.credential',
        result: 'fail',
        details: expect.objectContaining({ label: 'bob', error: 'GATE_WRONG_RESPONSE' }),
      }),
    );
    // With carol present too, the gate skips bob and still opens.
    b2.only('alice', 'bob', 'carol');
    expect(sameSecret(await b2.provider().unseal(rec, context()), s)).toBe(true);
  });

  it('no stored value works as a response (hardware binding)', async () => {
    bench.only();
    const stored = [record.check, ...record.credentials.flatMap((c) => [c.challenge, c.salt, c.iv, c.ct])].map((h) =>
      Buffer.from(h, 'hex'),
    );
    const candidates = stored
      .flatMap((b) => [b.subarray(0, 20), b.subarray(b.length - 20 > 0 ? b.length - 20 : 0)])
      .filter((b) => b.length === 20);
    let i = 0;
    const replay: YubiKeyDriver = {
      name: 'emulator',
      listSerials: async () => record.credentials.map((c) => c.serial),
      respond: async () => Buffer.from(candidates[i++ % candidates.length]!),
    };
    for (let round = 0; round < candidates.length; round += 3) {
      await expect(bench.provider({ drivers: { emulator: replay } }).unseal(record, context())).rejects.toMatchObject({
        code: 'GATE_QUORUM_NOT_MET',
      });
    }
    expect(i).toBeGreaterThanOrEqual(candidates.length);
  });

  it('never writes a response into the audit log', async () => {
    bench.only('alice', 'bob');
    const ctx = context();
    await bench.provider().unseal(record, ctx);
    const responses = await Promise.all(
      record.credentials
        .slice(0, 2)
        .map((c) => new EmulatorDriver(bench.dir).respond(c as CredentialRef, Buffer.from(c.challenge, 'hex'))),
    );
    const log = JSON.stringify(ctx.log);
    for (const r of responses) expect(log.includes(r.toString('hex'))).toBe(false);
  });

  it('recovery words rebuild the secret; fewer than M do not', async () => {
    const ctx = context();
    const out = await bench.provider().recover(record, [recoveryWords[0]!.join(' '), recoveryWords[2]!.join(' ')], ctx);
    expect(sameSecret(out, secret)).toBe(true);
    expect(ctx.log.at(-1)).toMatchObject({ event: 'gate.recover', result: 'ok' });
    await expect(bench.provider().recover(record, [recoveryWords[1]!.join(' ')], context())).rejects.toThrow(
      'Recovery needs 2 recovery shares; 1 were given.',
    );
  });

  it('recovery then enrolls new keys that unseal', async () => {
    const out = await bench
      .provider()
      .recover(record, [recoveryWords[1]!.join(' '), recoveryWords[2]!.join(' ')], context());
    const specs = [await bench.add('dora'), await bench.add('erin')];
    const fresh = await bench.provider({ credentials: specs, threshold: 2 }).seal(out, context());
    bench.only('dora', 'erin');
    expect(sameSecret(await bench.provider().unseal(fresh, context()), secret)).toBe(true);
  });

  it('rotation: responses to the old challenges open nothing; with a new secret old words fail', async () => {
    bench.only('alice', 'bob', 'carol');
    const captured = new Map<number, Buffer>();
    const emu = new EmulatorDriver(bench.dir);
    for (const c of record.credentials) captured.set(c.serial, await emu.respond(c, Buffer.from(c.challenge, 'hex')));
    const next = newSecret();
    const rotated = await bench.provider().rotate(record, secret, context(), { newSecret: next });
    expect(rotated.record.credentials.map((c) => c.id)).toEqual(record.credentials.map((c) => c.id));
    expect(rotated.record.credentials.map((c) => c.challenge)).not.toEqual(record.credentials.map((c) => c.challenge));
    const replay: YubiKeyDriver = {
      name: 'emulator',
      listSerials: async () => [...captured.keys()],
      respond: async (cred) => Buffer.from(captured.get(cred.serial)!),
    };
    await expect(bench.provider({ drivers: { emulator: replay } }).unseal(rotated.record, context())).rejects.toThrow(
      /did not give the enrolled response/,
    );
    expect(sameSecret(await bench.provider().unseal(rotated.record, context()), next)).toBe(true);
    await expect(
      bench.provider().recover(rotated.record, [recoveryWords[0]!.join(' '), recoveryWords[1]!.join(' ')], context()),
    ).rejects.toMatchObject({
      code: 'GATE_RECOVERY_FAILED',
    });
    const newWords = rotated.recoveryShares.map((r) => encodeRecoveryWords(r.share).join(' '));
    expect(sameSecret(await bench.provider().recover(rotated.record, newWords.slice(1), context()), next)).toBe(true);
  });

  it('revoke removes a credential; enroll adds one', async () => {
    bench.only('alice', 'bob', 'carol');
    const ctx = context();
    const revoked = await bench.provider().revoke(record, secret, 'bob', ctx);
    expect(revoked.record.credentials.map((c) => c.label)).toEqual(['alice', 'carol']);
    expect(ctx.log.at(-1)).toMatchObject({ event: 'gate.revoke', result: 'ok', details: { label: 'bob' } });
    bench.only('alice', 'bob');
    await expect(bench.provider().unseal(revoked.record, context())).rejects.toThrow(
      `Present but not enrolled (ignored): serial ${bench.serials.bob}.`,
    );
    await expect(bench.provider().revoke(revoked.record, secret, 'alice', context())).rejects.toMatchObject({
      code: 'GATE_QUORUM_TOO_SMALL',
    });

    const frank = await bench.add('frank');
    bench.only('alice', 'carol', 'frank');
    const enrolled = await bench.provider().enroll(revoked.record, secret, [frank], context());
    expect(enrolled.record.credentials.map((c) => c.label)).toEqual(['alice', 'carol', 'frank']);
    bench.only('carol', 'frank');
    expect(sameSecret(await bench.provider().unseal(enrolled.record, context()), secret)).toBe(true);
    await expect(bench.provider().enroll(enrolled.record, newSecret(), [], context())).rejects.toMatchObject({
      code: 'GATE_SECRET_MISMATCH',
    });
  });
});

describe('YubiKey gate rules', () => {
  it('refuses the emulator for mainnet unless allowed at init, and audits its use', async () => {
    const bench = new Bench();
    const specs = [await bench.add('a'), await bench.add('b')];
    const s = newSecret();
    await expect(bench.provider({ credentials: specs, threshold: 2 }).seal(s, context(true))).rejects.toThrow(
      'The YubiKey emulator is refused for a vault with mainnet wallets (emulated: a, b).',
    );
    const testnetRecord = await bench.provider({ credentials: specs, threshold: 2 }).seal(s, context(false));
    const ctx = context(true);
    await expect(bench.provider().unseal(testnetRecord, ctx)).rejects.toMatchObject({ code: 'GATE_EMULATOR_REFUSED' });
    expect(ctx.log[0]).toMatchObject({ event: 'gate.unseal.emulator_refused', result: 'fail' });

    const allowed = await bench
      .provider({ credentials: specs, threshold: 2, allowEmulated: true })
      .seal(s, context(true));
    const ctx2 = context(true);
    expect(sameSecret(await bench.provider().unseal(allowed, ctx2), s)).toBe(true);
    expect(ctx2.log.at(-1)).toMatchObject({ event: 'gate.unseal', result: 'ok', details: { emulatorOnMainnet: true } });
  });

  it('mainnet needs threshold >= 2 unless single operator is allowed', async () => {
    const bench = new Bench();
    const specs = [await bench.add('a')];
    const opts = { credentials: specs, threshold: 1, allowEmulated: true };
    await expect(bench.provider(opts).seal(newSecret(), context(true))).rejects.toMatchObject({
      code: 'GATE_SINGLE_OPERATOR_REFUSED',
    });
    const s = newSecret();
    const rec = await bench.provider({ ...opts, allowSingleOperator: true }).seal(s, context(true));
    expect(sameSecret(await bench.provider().unseal(rec, context(true)), s)).toBe(true);
  });

  it('refuses the same YubiKey twice', async () => {
    const bench = new Bench();
    const a = await bench.add('a');
    await expect(
      bench.provider({ credentials: [a, { ...a, label: 'a2' }], threshold: 2 }).seal(newSecret(), context()),
    ).rejects.toThrow(`The YubiKey with serial ${a.serial} is listed twice.`);
  });

  it('a passphrase credential needs the passphrase at unseal', async () => {
    const bench = new Bench();
    const specs = [{ ...(await bench.add('a')), passphrase: true }, await bench.add('b')];
    const s = newSecret();
    const asked: string[] = [];
    const rec = await bench
      .provider({
        credentials: specs,
        threshold: 2,
        getPassphrase: async (r) => (asked.push(`${r.label}:${r.purpose}`), Buffer.from('hunter2')),
      })
      .seal(s, context());
    expect(rec.credentials.map((c) => c.passphrase)).toEqual([true, false]);
    const ok = await bench
      .provider({ getPassphrase: async (r) => (asked.push(`${r.label}:${r.purpose}`), Buffer.from('hunter2')) })
      .unseal(rec, context());
    expect(sameSecret(ok, s)).toBe(true);
    expect(asked).toEqual(['a:enroll', 'a:unseal']);
    await expect(
      bench.provider({ getPassphrase: async () => Buffer.from('hunter3') }).unseal(rec, context()),
    ).rejects.toThrow(
      /The YubiKey a did not give the enrolled response: wrong key, or re-programmed slot, or a wrong passphrase\./,
    );
    await expect(bench.provider().unseal(rec, context())).rejects.toThrow(/no way to ask for it was given/);
  });

  it("a passphrase credential's recovery share opens only with its passphrase, and still after an unseal re-sealed the share", async () => {
    const bench = new Bench();
    const specs = [
      { ...(await bench.add('a')), passphrase: true },
      await bench.add('b'),
      { ...(await bench.add('c')), passphrase: true },
    ];
    const s = newSecret();
    const pass: Record<string, string> = { a: 'alpha-pass', c: 'gamma-pass' };
    const asking = (over: Record<string, string> = {}) => ({
      getPassphrase: async (r: { label: string }) => Buffer.from({ ...pass, ...over }[r.label] ?? ''),
    });
    const sealed = await bench
      .provider({ credentials: specs, threshold: 2, ...asking() })
      .sealWithRecovery(s, context());
    expect(sealed.recoveryShares.map((r) => r.format)).toEqual([2, 1, 2]);
    expect(sealed.record.credentials.map((c) => c.recoverySalt !== undefined)).toEqual([true, false, true]);
    const words = sealed.recoveryShares.map((r) => encodeRecoveryWords(r.share, r.format).join(' '));
    // An unseal re-seals the shares it used under new challenges; the sheets made at the split stay valid.
    const provider = bench.provider(asking());
    expect(sameSecret(await provider.unseal(sealed.record, context()), s)).toBe(true);
    const record = provider.resealAfterUnseal()!.record as YubiKeySealRecord;
    expect(record.credentials[0]!.challenge).not.toBe(sealed.record.credentials[0]!.challenge);
    expect(sameSecret(await bench.provider(asking()).recover(record, [words[0]!, words[2]!], context()), s)).toBe(true);
    expect(sameSecret(await bench.provider(asking()).recover(record, [words[1]!, words[2]!], context()), s)).toBe(true);
    // The raw share hidden in a format-2 sheet is not a share by itself: without the passphrase nothing opens.
    await expect(bench.provider().recover(record, [words[0]!, words[1]!], context())).rejects.toMatchObject({
      code: 'GATE_PASSPHRASE_REQUIRED',
    });
    await expect(
      bench.provider(asking({ a: 'gamma-pass' })).recover(record, [words[0]!, words[1]!], context()),
    ).rejects.toMatchObject({
      code: 'GATE_RECOVERY_PASSPHRASE',
      message: "The passphrase given for a does not open a's recovery share.",
    });
    // A sheet read as if it were raw (format changed to 1) does not rebuild the secret.
    await expect(
      bench
        .provider(asking())
        .recover(record, [{ format: 1, body: sealed.recoveryShares[0]!.share }, words[1]!], context()),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^GATE_(SHAMIR_INVALID|RECOVERY_FAILED)$/),
    });
    // A sheet of a credential that is no longer in the gate is named as such.
    const other = await bench
      .provider({
        credentials: [{ ...(await bench.add('d')), passphrase: true }, await bench.add('e')],
        threshold: 2,
        ...asking({ d: 'x' }),
      })
      .sealWithRecovery(newSecret(), context());
    const foreign = encodeRecoveryWords(other.recoveryShares[0]!.share, 2).join(' ');
    await expect(bench.provider(asking()).recover(record, [foreign, words[1]!], context())).rejects.toThrow(
      "Recovery share 1 belongs to no operator of this vault's current gate.",
    );
  });

  it('rejects a damaged record with GATE_RECORD_INVALID', async () => {
    const bench = new Bench();
    const rec = await bench
      .provider({ credentials: [await bench.add('a')], threshold: 1 })
      .seal(newSecret(), context());
    await expect(bench.provider().unseal({ ...rec, threshold: 5 }, context())).rejects.toMatchObject({
      code: 'GATE_RECORD_INVALID',
    });
    await expect(bench.provider().unseal({ provider: 'password' }, context())).rejects.toThrow(
      /belongs to the "password" provider/,
    );
  });
});
