import { createHmac, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 2): the gate ran `ykman` from PATH. A replay-only fake `ykman`
 * earlier on PATH, fed with responses recorded once, unsealed a mainnet vault whose
 * credentials say driver ykman, with no YubiKey present. Must hold: the tool runs by the
 * absolute path fixed at enrollment (in the MAC'd record), checked root-owned and not
 * group/world-writable, with a minimal environment.
 *
 * No YubiKey exists here, so the "real" ykman is a stand-in with ykman's command line
 * (list --serials; --device N otp calculate SLOT HEX), answering HMAC-SHA1 from key files
 * that play the keys, and printing "Touch your YubiKey..." as ykman does when the slot
 * requires a touch.
 */
const node = process.execPath;

function standIn(dir: string): void {
  writeFileSync(
    join(dir, 'ykman'),
    `#!${node}
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const here = ${JSON.stringify(dir)}, keys = path.join(here, 'keys');
fs.appendFileSync(path.join(here, 'env.log'), JSON.stringify(Object.keys(process.env)) + '\\n');
const a = process.argv.slice(2);
if (a[0] === 'list') { for (const f of fs.existsSync(keys) ? fs.readdirSync(keys) : []) console.log(f.replace('.key', '')); process.exit(0); }
const serial = a[1], hex = a[5], file = path.join(keys, serial + '.key');
if (!fs.existsSync(file)) { console.error('Error: Failed connecting to a YubiKey with serial: ' + serial + '.'); process.exit(1); }
if (!fs.existsSync(path.join(here, 'notouch'))) console.error('Touch your YubiKey...');
console.log(crypto.createHmac('sha1', Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex')).update(Buffer.from(hex, 'hex')).digest('hex'));
`,
  );
  chmodSync(join(dir, 'ykman'), 0o755);
}

function replayFake(dir: string, recorded: Record<string, string>, serials: number[]): void {
  writeFileSync(join(dir, 'recorded.json'), JSON.stringify(recorded));
  writeFileSync(
    join(dir, 'ykman'),
    `#!${node}
const rec = require(${JSON.stringify(join(dir, 'recorded.json'))});
const a = process.argv.slice(2);
if (a[0] === 'list') { console.log(${JSON.stringify(serials.join('\n'))}); process.exit(0); }
const r = rec[a[5]];
if (!r) { console.error('Error: Failed to write to the YubiKey.'); process.exit(1); }
console.log(r);
`,
  );
  chmodSync(join(dir, 'ykman'), 0o755);
}

describe('attack: a fake ykman on PATH answers with recorded responses', () => {
  const bench = new GateBench();
  const real = mkdtempSync(join(tmpdir(), 'hardkms-realtool-'));
  const fake = mkdtempSync(join(tmpdir(), 'hardkms-faketool-'));
  const serials = [41000001, 41000002];
  /** `init` of the two stand-in ykman keys alice and bob, with `flags`. */
  const ykmanInit = (...flags: string[]): string[] => [
    'init',
    ...flags,
    '--yubikeys',
    '2',
    '--driver',
    'ykman',
    '--serials',
    serials.join(','),
    '--labels',
    'alice,bob',
  ];
  const env = (first: string) => ({
    PATH: `${first}:${process.env.PATH}`,
    TATUM_API_KEY: 'tatum-key-that-tools-must-not-see',
  });

  beforeAll(async () => {
    mkdirSync(join(real, 'keys'), { mode: 0o700 });
    for (const s of serials)
      writeFileSync(join(real, 'keys', `${s}.key`), `${randomBytes(20).toString('hex')}\n`, { mode: 0o600 });
    standIn(real);
    const init = await bench.cli(ykmanInit('--threshold', '2'), {
      env: env(real),
    });
    expectOk(init);
    expectOk(await bench.cli(['generatemanagedwallet', 'BTC'], { env: env(real) }));
  });

  it('the replay fake first on PATH, the keys away: nothing unseals', async () => {
    const recorded: Record<string, string> = {};
    for (const c of bench.sealRecord().credentials) {
      const secret = Buffer.from(readFileSync(join(real, 'keys', `${c.serial}.key`), 'utf8').trim(), 'hex');
      recorded[c.challenge] = createHmac('sha1', secret).update(Buffer.from(c.challenge, 'hex')).digest('hex');
    }
    replayFake(fake, recorded, serials);
    renameSync(join(real, 'keys'), join(real, 'keys-away'));
    try {
      const r = await bench.cli(['status'], { env: env(`${fake}:${real}`) });
      expectOk(r);
      const attack = await bench.cli(['generatemanagedwallet', 'BTC'], { env: env(`${fake}:${real}`) });
      expectError(attack, 'GATE_QUORUM_NOT_MET');
    } finally {
      renameSync(join(real, 'keys-away'), join(real, 'keys'));
    }
  });

  it('the record names the tool by absolute path; the tool gets no secret from the environment', async () => {
    for (const c of bench.sealRecord().credentials) expect(c.tool).toBe(join(real, 'ykman'));
    rmSync(join(real, 'env.log'), { force: true });
    expectOk(await bench.cli(['generatemanagedwallet', 'BTC'], { env: env(real) }));
    const seen = readFileSync(join(real, 'env.log'), 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => JSON.parse(l) as string[]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((k) => k.startsWith('TATUM_') || k.startsWith('HARDKMS_') || k.startsWith('SOFTHSM'))).toEqual(
      [],
    );
  });

  it('a group/world-writable tool is refused, at enrollment and at unseal', async () => {
    chmodSync(join(real, 'ykman'), 0o757);
    try {
      expectError(
        await bench.cli(['generatemanagedwallet', 'BTC'], { env: env(real) }),
        'GATE_QUORUM_NOT_MET',
        /is not trusted: it is writable by group or others/,
      );
      const other = new GateBench();
      expectError(
        await other.cli(ykmanInit('--testnet'), {
          env: env(real),
        }),
        'GATE_TOOL_UNTRUSTED',
      );
      expect(existsSync(other.path)).toBe(false);
    } finally {
      chmodSync(join(real, 'ykman'), 0o755);
    }
  });

  it('on mainnet a slot that answers without a touch is refused at enrollment (testnet accepts it)', async () => {
    writeFileSync(join(real, 'notouch'), '');
    try {
      const args = ykmanInit('--threshold', '2');
      expectError(await new GateBench().cli(args, { env: env(real) }), 'GATE_TOUCH_NOT_REQUIRED');
      expectOk(await new GateBench().cli([...args, '--testnet'], { env: env(real) }));
    } finally {
      rmSync(join(real, 'notouch'));
    }
  });
});
