import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODHEX_ALPHABET } from '../../../src/gate/otp.js';
import { generateOtp } from '../../../src/gate/otp-testing.js';
import { expectError, expectOk, GateBench } from '../../support/gate-bench.js';

const PUBLIC_ID = 'ccccccbcgujh';
const OTHER_PUBLIC_ID = 'cccccchhhhhh';

describe('Yubico OTP second factor through the CLI', () => {
  const bench = new GateBench();
  const aesKey = randomBytes(16);
  const privateId = randomBytes(6);
  let use = 1;
  let session = 0;
  /** The next OTP the emulated key would type. */
  const nextOtp = (key = aesKey, publicId = PUBLIC_ID): string =>
    generateOtp(key, { publicId, privateId, useCounter: use, sessionCounter: session++ });
  let signatureId: string;

  beforeAll(async () => {
    expectOk(await bench.cli(['init', '--testnet', '--yubikeys', '1', '--driver', 'emulator']));
    signatureId = await bench.wallet('BTC');
  });

  it('otp add checks the AES key with a fresh OTP before storing anything', async () => {
    const wrongKey = randomBytes(16);
    const r = await bench.cli(
      ['otp', 'add', '--public-id', PUBLIC_ID, '--private-id', privateId.toString('hex'), '--verify', nextOtp()],
      {
        input: `${wrongKey.toString('hex')}\n`,
      },
    );
    expectError(r, 'OTP_CRC');
    expect(bench.sealRecord().otp).toBeUndefined();
  });

  it('otp add imports the key into the token and stores the counters', async () => {
    const r = await bench.cli(
      [
        'otp',
        'add',
        '--public-id',
        PUBLIC_ID,
        '--private-id',
        privateId.toString('hex'),
        '--label',
        'alice-otp',
        '--verify',
        nextOtp(),
      ],
      {
        input: `${aesKey.toString('hex')}\n`,
      },
    );
    expectOk(r);
    expect(r.json()).toMatchObject({
      otp: { publicId: PUBLIC_ID, label: 'alice-otp' },
      keys: [PUBLIC_ID],
      atUnseal: false,
    });
    expect(r.stdout + r.stderr).not.toContain(aesKey.toString('hex'));
    expect(bench.sealRecord().otp).toEqual({ keys: [PUBLIC_ID], atUnseal: false });
    const status = (await bench.cli(['status', '--output', 'json'])).json() as { otp: { keys: string[] } };
    expect(status.otp.keys).toEqual([PUBLIC_ID]);
  });

  it('a secret-printing command needs an OTP; other commands do not', async () => {
    expectError(
      await bench.cli(['getmanagedwallet', signatureId]),
      'OTP_REQUIRED',
      '`hardkms getmanagedwallet` needs a Yubico OTP on this vault.',
    );
    expectOk(await bench.cli(['getaddress', signatureId, '0']));
  });

  it('a valid OTP passes; replaying it fails', async () => {
    const otp = nextOtp();
    const ok = await bench.cli(['getmanagedwallet', signatureId, '--otp', otp]);
    expectOk(ok);
    expect(ok.json()).toHaveProperty('mnemonic');
    const replay = await bench.cli(['getmanagedwallet', signatureId, '--otp', otp]);
    expectError(replay, 'OTP_REPLAYED', /^The OTP was already used, or is older than the last one accepted/);
    expect(replay.stdout).toBe('');
  });

  it('an older OTP (lower counter) fails even if never used', async () => {
    const older = generateOtp(aesKey, { publicId: PUBLIC_ID, privateId, useCounter: 0, sessionCounter: 200 });
    expectError(await bench.cli(['getprivatekey', signatureId, '0', '--otp', older]), 'OTP_REPLAYED');
    use += 1;
    session = 0;
    expectOk(await bench.cli(['getprivatekey', signatureId, '0', '--otp', nextOtp()]));
  });

  it('an altered OTP fails', async () => {
    const otp = nextOtp();
    const last = otp.at(-1)!;
    const altered = otp.slice(0, -1) + MODHEX_ALPHABET[(MODHEX_ALPHABET.indexOf(last) + 1) % 16];
    expectError(await bench.cli(['export', '--otp', altered]), 'OTP_CRC', /^The OTP does not decrypt to a valid block/);
    expectError(await bench.cli(['export', '--otp', `${otp}x`]), 'OTP_FORMAT');
  });

  it('an OTP of a foreign key fails: other AES key, other private id, or other public id', async () => {
    expectError(await bench.cli(['export', '--otp', nextOtp(randomBytes(16))]), 'OTP_CRC');
    const foreignPrivate = generateOtp(aesKey, {
      publicId: PUBLIC_ID,
      privateId: randomBytes(6),
      useCounter: use + 5,
      sessionCounter: 0,
    });
    expectError(
      await bench.cli(['export', '--otp', foreignPrivate]),
      'OTP_WRONG_KEY',
      'The OTP decrypts, but its private id is not the enrolled one.',
    );
    expectError(
      await bench.cli(['export', '--otp', nextOtp(aesKey, OTHER_PUBLIC_ID)]),
      'OTP_WRONG_KEY',
      `The OTP comes from the YubiKey "${OTHER_PUBLIC_ID}", which is not enrolled for OTP in this vault.`,
    );
    expectOk(await bench.cli(['export', '--otp', nextOtp()]));
  });

  it('every OTP use is audited and signed', () => {
    const events = bench.auditEvents().filter((e) => e.event === 'otp.verify');
    expect(events.filter((e) => e.result === 'ok').length).toBe(3);
    expect(events.filter((e) => e.result === 'fail').map((e) => e.details.error)).toEqual([
      'OTP_REPLAYED',
      'OTP_REPLAYED',
      'OTP_CRC',
      'OTP_FORMAT',
      'OTP_CRC',
      'OTP_WRONG_KEY',
      'OTP_WRONG_KEY',
    ]);
    expect(events.every((e) => e.sig !== null)).toBe(true);
  });

  it('counters edited back in wallet.dat, or the row deleted, are detected', async () => {
    const db = new Database(bench.path);
    const row = db.prepare('SELECT * FROM otp WHERE public_id = ?').get(PUBLIC_ID) as Record<string, unknown>;
    db.prepare('UPDATE otp SET use_counter = 0, session_counter = 0 WHERE public_id = ?').run(PUBLIC_ID);
    db.close();
    expectError(await bench.cli(['export', '--otp', nextOtp()]), 'OTP_ROW_TAMPERED');
    const db2 = new Database(bench.path);
    db2.prepare('DELETE FROM otp').run();
    db2.close();
    // The row set sees the deletion before the OTP check does.
    expectError(await bench.cli(['export', '--otp', nextOtp()]), 'VAULT_ROW_TAMPERED');
    const db3 = new Database(bench.path);
    const seal = JSON.parse(
      (db3.prepare("SELECT value FROM meta WHERE key = 'seal'").get() as { value: string }).value,
    );
    delete seal.otp;
    db3.prepare("UPDATE meta SET value = ? WHERE key = 'seal'").run(JSON.stringify(seal));
    db3.close();
    // Dropping the policy to skip the second factor breaks the meta MAC: nothing opens.
    // (The operator even says "yes" to the prompt that the stripped policy brings up.)
    expectError(await bench.cli(['export'], { input: 'yes\nyes\n' }), 'VAULT_META_TAMPERED');
    const db4 = new Database(bench.path);
    seal.otp = { keys: [PUBLIC_ID], atUnseal: false };
    db4.prepare("UPDATE meta SET value = ? WHERE key = 'seal'").run(JSON.stringify(seal));
    db4
      .prepare(
        'INSERT INTO otp (public_id, key_id, private_id_hash, label, use_counter, session_counter, updated, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        row.public_id,
        row.key_id,
        row.private_id_hash,
        row.label,
        row.use_counter,
        row.session_counter,
        row.updated,
        row.mac,
      );
    db4.close();
    expectOk(await bench.cli(['export', '--otp', nextOtp()]));
  });

  it('--at-unseal makes every unsealing command need an OTP; otp remove needs one too', async () => {
    expectError(await bench.cli(['otp', 'remove', PUBLIC_ID]), 'OTP_REQUIRED');
    expectOk(await bench.cli(['otp', 'remove', PUBLIC_ID, '--otp', nextOtp()]));
    expect(bench.sealRecord().otp).toBeUndefined();
    // Without an OTP key, a secret-revealing command needs each unsealing operator's "yes".
    expectOk(await bench.cli(['export'], { input: 'yes\nyes\n' }));
    const add = await bench.cli(
      ['otp', 'add', '--public-id', OTHER_PUBLIC_ID, '--private-id', privateId.toString('hex'), '--at-unseal'],
      {
        input: `${aesKey.toString('hex')}\n${nextOtp(aesKey, OTHER_PUBLIC_ID)}\n`,
      },
    );
    expectOk(add);
    expectError(
      await bench.cli(['getaddress', signatureId, '0']),
      'OTP_REQUIRED',
      '`hardkms getaddress` needs a Yubico OTP on this vault (required at every unseal).',
    );
    expectOk(await bench.cli(['getaddress', signatureId, '0', '--otp', nextOtp(aesKey, OTHER_PUBLIC_ID)]));
  });
});
