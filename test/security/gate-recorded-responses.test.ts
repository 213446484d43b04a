import { createHmac, randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DriverName, YubiKeyDriver } from '../../src/gate/drivers/driver.js';
import { YubiKeyGateProvider } from '../../src/gate/yubikey-provider.js';
import type { SealRecord } from '../../src/vault/secret.js';
import { expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 2): a response recorded once (a tapped pipe, a key borrowed for a
 * minute, a logging `ykman`) is a bearer secret if the challenge never changes. The
 * attacker records every response the keys give during one unseal, lets the vault be used
 * again, then copies wallet.dat and opens it offline with the recorded responses.
 * Must hold: every unseal re-seals the shares it used under fresh challenges, so what was
 * recorded opens at most the snapshot it was recorded against.
 */

/** What a tap on the tool's stdout sees: the response to each challenge asked of a key. */
function tap(
  bench: GateBench,
  record: SealRecord & { credentials: Array<{ serial: number; challenge: string }> },
  labels: string[],
  into: Map<string, Buffer>,
) {
  for (const c of record.credentials) {
    const label = Object.entries(bench.serials).find(([, s]) => s === c.serial)?.[0];
    if (!label || !labels.includes(label)) continue;
    const secret = Buffer.from(readFileSync(bench.keyFile(label), 'utf8').trim(), 'hex');
    into.set(c.challenge, createHmac('sha1', secret).update(Buffer.from(c.challenge, 'hex')).digest());
  }
}

/** Answers only challenges it has recorded; anything else gets noise (it has no key). */
function replayDriver(recorded: Map<string, Buffer>, serials: number[]): YubiKeyDriver {
  return {
    name: 'emulator' as DriverName,
    listSerials: async () => serials,
    respond: async (_cred, challenge) => Buffer.from(recorded.get(challenge.toString('hex')) ?? randomBytes(20)),
  };
}

async function openOffline(
  record: SealRecord,
  recorded: Map<string, Buffer>,
  serials: number[],
  vaultId: string,
): Promise<string> {
  const provider = new YubiKeyGateProvider({ drivers: { emulator: replayDriver(recorded, serials) } });
  try {
    await provider.unseal(record, { vaultId, mainnet: false, audit: () => undefined });
    return 'opened';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('attack: recorded YubiKey responses plus a copy of wallet.dat', () => {
  const bench = new GateBench();
  let signatureId: string;
  let vaultId: string;

  beforeAll(async () => {
    const init = await bench.init(['alice', 'bob', 'carol'], { threshold: 2 });
    vaultId = (init.json() as { vaultId: string }).vaultId;
    signatureId = await bench.wallet('BTC');
  });

  it('responses recorded at one unseal do not open wallet.dat as it is after the next unseal', async () => {
    bench.only('alice', 'bob');
    const recorded = new Map<string, Buffer>();
    const serials = [bench.serials.alice!, bench.serials.bob!];
    // Unseal 1, tapped: the responses to what the keys are asked (before and after, so a
    // second touch under new challenges is recorded too).
    tap(bench, bench.sealRecord(), ['alice', 'bob'], recorded);
    expect(await openOffline(bench.sealRecord(), recorded, serials, vaultId)).toBe('opened'); // the replay harness works
    expectOk(await bench.cli(['getaddress', signatureId, '0']));
    tap(bench, bench.sealRecord(), ['alice', 'bob'], recorded);

    // Unseal 2, not tapped: the operators use the vault again.
    expectOk(await bench.cli(['getaddress', signatureId, '0']));

    // The attacker copies wallet.dat now and replays everything recorded.
    const copy = join(bench.dir, 'stolen-wallet.dat');
    copyFileSync(bench.path, copy);
    expect(await openOffline(bench.sealRecord(copy), recorded, serials, vaultId)).toBe('GATE_QUORUM_NOT_MET');
  });

  it('the second touch is asked for and says why; the unseal is audited with the rotation', async () => {
    bench.only('alice', 'bob');
    const before = bench.sealRecord();
    const r = await bench.cli(['getaddress', signatureId, '0']);
    expectOk(r);
    const touches = r.stderr.split('\n').filter((l) => l.startsWith('Touch the YubiKey'));
    expect(touches).toHaveLength(4);
    expect(touches.filter((l) => /again/.test(l) && /new challenge/.test(l))).toHaveLength(2);
    const after = bench.sealRecord();
    const changed = after.credentials
      .filter((c, i) => c.challenge !== before.credentials[i]!.challenge)
      .map((c) => c.serial);
    expect(changed.sort()).toEqual([bench.serials.alice, bench.serials.bob].sort());
    const carol = after.credentials.find((c) => c.serial === bench.serials.carol)!;
    expect(carol.challenge).toBe(before.credentials.find((c) => c.serial === bench.serials.carol)!.challenge);
    const rotated = bench.auditEvents().filter((e) => e.event === 'gate.challenges_rotated' && e.result === 'ok');
    expect(rotated.at(-1)?.sig).not.toBeNull();
    // The vault still opens with every pair, carol's unrotated share included.
    bench.only('bob', 'carol');
    expectOk(await bench.cli(['getaddress', signatureId, '0']));
    bench.only('alice', 'carol');
    expectOk(await bench.cli(['getaddress', signatureId, '0']));
  });

  it('the touch prompt names the command and the vault id', async () => {
    bench.only('alice', 'bob');
    const r = await bench.cli(['getaddress', signatureId, '0']);
    expectOk(r);
    const touches = r.stderr.split('\n').filter((l) => l.startsWith('Touch the YubiKey'));
    expect(touches.length).toBeGreaterThan(0);
    for (const l of touches) {
      expect(l).toContain('`hardkms getaddress`');
      expect(l).toContain(vaultId);
    }
  });
});
