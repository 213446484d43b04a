import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEmulatedKey } from '../../../src/gate/drivers/emulator.js';
import { reprogramEmulatedKey } from '../../../src/gate/drivers/emulator-testing.js';
import { expectError, expectOk, GateBench } from '../../support/gate-bench.js';

describe('YubiKey gate 2-of-3 through the CLI (emulated keys, SoftHSM2 token)', () => {
  const bench = new GateBench();
  let signatureId: string;
  let address: string;
  const labels = ['alice', 'bob', 'carol'];

  beforeAll(async () => {
    const init = await bench.init(labels, { threshold: 2, mainnet: true });
    expect(init.json()).toMatchObject({ seal: 'yubikey', testnetOnly: false, gate: { threshold: 2 } });
    expect(await bench.recoveryShares(init)).toHaveLength(3);
    for (const l of labels) expect(init.stderr).toContain(`Touch the YubiKey ${l} (serial ${bench.serials[l]})…`);
    expect(init.stderr).toContain('WARNING: --allow-emulated-yubikey');
    expect(init.stdout).not.toMatch(/RECOVERY|Share 1/); // shares only on stderr
    signatureId = await bench.wallet('BTC', { mainnet: true });
    const a = await bench.cli(['getaddress', signatureId, '0']);
    expectOk(a);
    address = (a.json() as { address: string }).address;
  });

  it('records the emulator allowance in the seal and in the signed audit log', () => {
    expect(bench.sealRecord()).toMatchObject({
      provider: 'yubikey',
      allowEmulated: true,
      allowSingleOperator: false,
      driver: 'emulator',
    });
    const seal = bench.auditEvents().find((e) => e.event === 'gate.seal')!;
    expect(seal).toMatchObject({ result: 'ok', details: { allowEmulated: true, threshold: 2 } });
    expect(seal.sig).not.toBeNull();
  });

  for (const pair of [
    ['alice', 'bob'],
    ['alice', 'carol'],
    ['bob', 'carol'],
  ]) {
    it(`unseals with ${pair.join(' and ')} only`, async () => {
      bench.only(...pair);
      const r = await bench.cli(['getaddress', signatureId, '0']);
      expectOk(r);
      expect(r.json()).toEqual({ address });
      const unseal = bench
        .auditEvents()
        .filter((e) => e.event === 'gate.unseal')
        .at(-1)!;
      expect(unseal.result).toBe('ok');
      expect(unseal.details.credentials).toHaveLength(2);
      expect(unseal.details.drivers).toEqual(['emulator', 'emulator']);
    });
  }

  it('status lists credentials, their presence and the token, and no secret', async () => {
    bench.only('alice');
    const r = await bench.cli(['status', '--output', 'json']);
    expectOk(r);
    const s = r.json() as {
      seal: { threshold: number; quorumPresent: boolean; credentials: Array<{ label: string; present: boolean }> };
      token: unknown;
      wallets: unknown;
      walletsNote: string;
    };
    expect(s.seal.threshold).toBe(2);
    expect(s.seal.credentials.map((c) => [c.label, c.present])).toEqual([
      ['alice', true],
      ['bob', false],
      ['carol', false],
    ]);
    expect(s.seal.quorumPresent).toBe(false);
    expect(s.token).toMatchObject({ label: 'hardkms', profile: 'softhsm2' });
    expect(Array.isArray(s.wallets)).toBe(true);
    expect(s.walletsNote).toMatch(/without unsealing/);
    const record = bench.sealRecord();
    for (const c of record.credentials) {
      for (const field of ['challenge', 'salt', 'iv', 'ct']) expect(r.stdout).not.toContain(c[field] as string);
    }
    expect(r.stdout).not.toContain(record.check as string);
  });

  it('one key alone does not unseal, and says which keys are missing', async () => {
    bench.only('alice');
    const r = await bench.cli(['getaddress', signatureId, '0']);
    expectError(
      r,
      'GATE_QUORUM_NOT_MET',
      `Unsealing needs 2 of the 3 enrolled YubiKeys; 1 gave a valid response. Present: alice (serial ${bench.serials.alice}). Not present: bob (serial ${bench.serials.bob}), carol (serial ${bench.serials.carol}).`,
    );
    expect(r.stdout).toBe('');
    const last = bench.auditEvents().at(-1)!;
    expect(last).toMatchObject({ event: 'unseal', result: 'fail', details: { code: 'GATE_QUORUM_NOT_MET' } });
  });

  it('an unenrolled key does not count', async () => {
    bench.only('alice');
    const stranger = await createEmulatedKey(bench.keys);
    try {
      const r = await bench.cli(['getaddress', signatureId, '0']);
      expectError(
        r,
        'GATE_QUORUM_NOT_MET',
        new RegExp(`1 gave a valid response\\..*Present but not enrolled \\(ignored\\): serial ${stranger.serial}\\.`),
      );
      expect(
        bench.auditEvents().some((e) => e.event === 'gate.unseal.unenrolled' && e.details.serial === stranger.serial),
      ).toBe(true);
    } finally {
      unlinkSync(stranger.path);
    }
  });

  it('a wrong response (re-programmed key) does not count', async () => {
    bench.only('alice', 'bob');
    const backup = readFileSync(bench.keyFile('bob'));
    await reprogramEmulatedKey(bench.keys, bench.serials.bob!);
    try {
      const r = await bench.cli(['getaddress', signatureId, '0']);
      expectError(
        r,
        'GATE_QUORUM_NOT_MET',
        `Unsealing needs 2 of the 3 enrolled YubiKeys; 1 gave a valid response. Present: alice (serial ${bench.serials.alice}), bob (serial ${bench.serials.bob}). Not present: carol (serial ${bench.serials.carol}). bob (serial ${bench.serials.bob}): The YubiKey bob did not give the enrolled response: wrong key, or re-programmed slot.`,
      );
      const cred = bench.auditEvents().find((e) => e.event === 'gate.unseal.credential' && e.result === 'fail')!;
      expect(cred.details).toMatchObject({ label: 'bob', driver: 'emulator', error: 'GATE_WRONG_RESPONSE' });
    } finally {
      writeFileSync(bench.keyFile('bob'), backup, { mode: 0o600 });
    }
    expectOk(await bench.cli(['getaddress', signatureId, '0']));
  });

  it('the audit log still verifies after all of this', async () => {
    bench.only('alice', 'bob');
    const v = await bench.cli(['audit', 'verify']);
    expectOk(v);
    expect(v.json()).toMatchObject({ ok: true });
  });
});

describe('init refusals and real drivers', () => {
  const bench = new GateBench();

  it('refuses the emulator for a mainnet vault without --allow-emulated-yubikey, leaving nothing', async () => {
    const r = await bench.cli(['init', '--yubikeys', '2', '--threshold', '2', '--driver', 'emulator']);
    expectError(r, 'GATE_EMULATOR_REFUSED', /^The YubiKey emulator is refused for a vault with mainnet wallets/);
    expect(existsSync(bench.path)).toBe(false);
    expect(bench.presentKeyFiles()).toEqual([]);
  });

  it('refuses threshold 1 for a mainnet vault without --allow-single-operator', async () => {
    const r = await bench.cli([
      'init',
      '--yubikeys',
      '2',
      '--threshold',
      '1',
      '--driver',
      'emulator',
      '--allow-emulated-yubikey',
    ]);
    expectError(
      r,
      'GATE_SINGLE_OPERATOR_REFUSED',
      'A vault for mainnet wallets needs a threshold of at least 2 YubiKeys (4-eye principle).',
    );
    expect(existsSync(bench.path)).toBe(false);
  });

  it('accepts threshold 1 with --allow-single-operator, recorded and audited', async () => {
    const path = join(bench.dir, 'single.dat');
    const log = join(bench.dir, 'single.log');
    const r = await bench.cli(
      [
        'init',
        '--yubikeys',
        '1',
        '--driver',
        'emulator',
        '--allow-emulated-yubikey',
        '--allow-single-operator',
        '--share-token',
        '--audit-log',
        log,
      ],
      {
        path,
      },
    );
    expectOk(r);
    expect(r.stderr).toContain('WARNING: --allow-single-operator');
    expect(bench.sealRecord(path)).toMatchObject({ threshold: 1, allowSingleOperator: true });
    const seal = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.event === 'gate.seal');
    expect(seal).toMatchObject({ result: 'ok', details: { allowSingleOperator: true, threshold: 1 } });
  });

  for (const driver of ['ykman', 'ykchalresp']) {
    it(`init --driver ${driver} with no YubiKey connected fails with GATE_NO_YUBIKEY`, async () => {
      const path = join(bench.dir, `${driver}.dat`);
      const r = await bench.cli(['init', '--yubikeys', '2', '--threshold', '2', '--driver', driver], { path });
      expectError(r, 'GATE_NO_YUBIKEY', 'No YubiKey was found.');
      expect(r.error().hint).toMatch(/Plug in the YubiKey/);
      expect(existsSync(path)).toBe(false);
    });
  }

  it('gate flags without --yubikeys are refused', async () => {
    const r = await bench.cli(['init', '--threshold', '2']);
    expectError(r, 'INVALID_INPUT', '--threshold applies to a YubiKey gate.');
  });

  it('gate commands on a password vault say what is wrong', async () => {
    const path = join(bench.dir, 'pw.dat');
    const env = { TATUM_KMS_PASSWORD: 'pw-for-tests' };
    expectOk(
      await bench.cli(['init', '--testnet', '--share-token', '--audit-log', join(bench.dir, 'pw.log')], { path, env }),
    );
    const r = await bench.cli(['enroll', '--audit-log', join(bench.dir, 'pw.log')], { path, env });
    expectError(
      r,
      'GATE_NOT_CONFIGURED',
      "`hardkms enroll` works on a YubiKey gate, but this vault is sealed by 'password'.",
    );
  });

  it('a per-operator passphrase is mixed in: the right ones unseal, a wrong one does not', async () => {
    const path = join(bench.dir, 'pass.dat');
    const log = ['--audit-log', join(bench.dir, 'pass.log')];
    const init = await bench.cli(
      [
        'init',
        '--testnet',
        '--yubikeys',
        '2',
        '--threshold',
        '2',
        '--driver',
        'emulator',
        '--passphrase',
        '--share-token',
        '--labels',
        'ann,ben',
        ...log,
      ],
      {
        path,
        input: 'ann-passphrase\nben-passphrase\n',
      },
    );
    expectOk(init);
    expect(
      (init.json() as { gate: { credentials: Array<{ passphrase: boolean }> } }).gate.credentials.every(
        (c) => c.passphrase,
      ),
    ).toBe(true);
    expectOk(
      await bench.cli(['generatemanagedwallet', 'BTC', '--testnet', ...log], {
        path,
        input: 'ann-passphrase\nben-passphrase\n',
      }),
    );
    const wrong = await bench.cli(['generatemanagedwallet', 'BTC', '--testnet', ...log], {
      path,
      input: 'ann-passphrase\nnot-bens\n',
    });
    expectError(
      wrong,
      'GATE_QUORUM_NOT_MET',
      /ben \(serial \d+\): The YubiKey ben did not give the enrolled response: wrong key, or re-programmed slot, or a wrong passphrase\./,
    );
    const none = await bench.cli(['generatemanagedwallet', 'BTC', '--testnet', ...log], { path, input: '' });
    expectError(none, 'GATE_QUORUM_NOT_MET', /ann \(serial \d+\): No YubiKey passphrase was given\./);
  });

  // Last in this block: it changes the token PIN.
  it('rotate on a password vault sets a new password and a new token PIN', async () => {
    const path = join(bench.dir, 'pw.dat');
    const log = ['--audit-log', join(bench.dir, 'pw.log')];
    const r = await bench.cli(['rotate', ...log], {
      path,
      env: { TATUM_KMS_PASSWORD: 'pw-for-tests' },
      input: 'the-new-password\n',
    });
    expectOk(r);
    expect(r.json()).toEqual({ rotated: 'password', tokenPinRotated: true });
    expectError(
      await bench.cli(['export', ...log], { path, env: { TATUM_KMS_PASSWORD: 'pw-for-tests' } }),
      'WRONG_PASSWORD',
    );
    expectOk(await bench.cli(['export', ...log], { path, env: { TATUM_KMS_PASSWORD: 'the-new-password' } }));
  });
});
