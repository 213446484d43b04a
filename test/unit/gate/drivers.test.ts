import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newChallenge } from '../../../src/gate/challenge.js';
import { getDriver } from '../../../src/gate/drivers/index.js';
import { YkchalrespDriver } from '../../../src/gate/drivers/ykchalresp.js';
import { YkmanDriver } from '../../../src/gate/drivers/ykman.js';

const cred = { serial: 12345678, slot: 2 as const, label: 'alice' };

function fakeTool(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-fake-'));
  const path = join(dir, 'tool');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Runs the real tools on this machine, where no YubiKey is plugged in (the Debian
// packages yubikey-manager and yubikey-personalization are installed by setup).
describe.skipIf(process.env.HARDKMS_TEST_YUBIKEY_PRESENT === '1')('real tools without a YubiKey', () => {
  it('ykman: no serials, and respond is GATE_NO_YUBIKEY', async () => {
    const d = getDriver('ykman');
    expect(await d.listSerials()).toEqual([]);
    const waits: string[] = [];
    await expect(d.respond(cred, newChallenge(), { onWait: (m) => waits.push(m) })).rejects.toMatchObject({
      code: 'GATE_NO_YUBIKEY',
      message: 'The YubiKey alice (serial 12345678) is not connected.',
    });
    expect(waits).toEqual(['Touch the YubiKey alice (serial 12345678)…']);
  });
  it('ykchalresp: no serials, and respond is GATE_NO_YUBIKEY', async () => {
    const d = getDriver('ykchalresp');
    expect(await d.listSerials()).toEqual([]);
    await expect(d.respond(cred, newChallenge())).rejects.toMatchObject({ code: 'GATE_NO_YUBIKEY' });
  });
});

describe('driver processes', () => {
  it('ykman gets an argv array and its response is parsed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-args-'));
    const tool = fakeTool(`printf '%s\\n' "$@" > ${dir}/args; echo 00112233445566778899aabbccddeeff00112233`);
    const challenge = newChallenge();
    const r = await new YkmanDriver(tool).respond(cred, challenge);
    expect(r.toString('hex')).toBe('00112233445566778899aabbccddeeff00112233');
    expect(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n')).toEqual([
      '--device',
      '12345678',
      'otp',
      'calculate',
      '2',
      challenge.toString('hex'),
    ]);
  });

  it('a tool that never answers is killed: GATE_TIMEOUT', async () => {
    const tool = fakeTool('exec sleep 30');
    await expect(new YkmanDriver(tool).respond(cred, newChallenge(), { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'GATE_TIMEOUT',
      message: 'The YubiKey alice (serial 12345678) did not answer within 0.2 s.',
    });
  });

  it('ykchalresp maps the serial to the key index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-args-'));
    // Two keys: index 0 = 111, index 1 = 12345678.
    const ykinfo = fakeTool(
      `case "$1" in -n0) echo 111;; -n1) echo 12345678;; *) echo "Yubikey core error: no yubikey present" >&2; exit 1;; esac`,
    );
    const ykchalresp = fakeTool(`printf '%s\\n' "$@" > ${dir}/args; echo ffeeddccbbaa99887766554433221100ffeeddcc`);
    const d = new YkchalrespDriver(ykchalresp, ykinfo);
    expect(await d.listSerials()).toEqual([111, 12345678]);
    const challenge = newChallenge();
    expect((await d.respond(cred, challenge)).toString('hex')).toBe('ffeeddccbbaa99887766554433221100ffeeddcc');
    expect(readFileSync(join(dir, 'args'), 'utf8').trim().split('\n')).toEqual([
      '-n1',
      '-2',
      '-x',
      challenge.toString('hex'),
    ]);
    await expect(d.respond({ ...cred, serial: 999 }, challenge)).rejects.toMatchObject({ code: 'GATE_NO_YUBIKEY' });
  });

  it('ykchalresp timeout on an empty slot is GATE_SLOT_NOT_PROGRAMMED', async () => {
    const ykinfo = fakeTool(
      `case "$1$2" in -n0-s) echo 12345678;; -n0-2) echo 0;; *) echo "Yubikey core error: no yubikey present" >&2; exit 1;; esac`,
    );
    const ykchalresp = fakeTool('echo "Yubikey core error: timeout" >&2; exit 1');
    await expect(new YkchalrespDriver(ykchalresp, ykinfo).respond(cred, newChallenge())).rejects.toMatchObject({
      code: 'GATE_SLOT_NOT_PROGRAMMED',
    });
  });

  it('a missing tool is GATE_DRIVER_FAILED with an install hint', async () => {
    await expect(new YkmanDriver('/nonexistent/ykman').listSerials()).rejects.toMatchObject({
      code: 'GATE_DRIVER_FAILED',
      hint: expect.stringMatching(/apt-get install yubikey-manager/),
    });
  });

  it('refuses challenges the key would alter', async () => {
    const bad = Buffer.concat([newChallenge(), Buffer.from([0])]);
    await expect(getDriver('emulator', { emulatorDir: tmpdir() }).respond(cred, bad)).rejects.toMatchObject({
      code: 'GATE_BAD_CHALLENGE',
    });
    expect(() => getDriver('yubihsm')).toThrow(/Unknown YubiKey driver "yubihsm"/);
  });
});
