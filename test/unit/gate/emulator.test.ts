import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newChallenge } from '../../../src/gate/challenge.js';
import { createEmulatedKey, EmulatorDriver } from '../../../src/gate/drivers/emulator.js';
import { reprogramEmulatedKey } from '../../../src/gate/drivers/emulator-testing.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'hardkms-emu-')), 'keys');

describe('emulator', () => {
  const saved = process.env.HARDKMS_YUBIKEY_EMULATOR_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.HARDKMS_YUBIKEY_EMULATOR_DIR;
    else process.env.HARDKMS_YUBIKEY_EMULATOR_DIR = saved;
  });

  it('creates 0600 key files in a 0700 directory; files present are plugged in', async () => {
    const dir = fresh();
    const a = await createEmulatedKey(dir);
    const b = await createEmulatedKey(dir, { serial: 4242 });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(a.path).mode & 0o777).toBe(0o600);
    expect(a.path).toBe(join(dir, `${a.serial}.key`));
    expect(readFileSync(a.path, 'utf8')).toMatch(/^[0-9a-f]{40}\n$/);
    const d = new EmulatorDriver(dir);
    expect(await d.listSerials()).toEqual([4242, a.serial].sort((x, y) => x - y));
    rmSync(b.path);
    expect(await d.listSerials()).toEqual([a.serial]);
    await expect(createEmulatedKey(dir, { serial: a.serial })).rejects.toThrow(/already exists/);
  });

  it('answers HMAC-SHA1(secret, challenge) and stops answering when unplugged or reprogrammed', async () => {
    const dir = fresh();
    const k = await createEmulatedKey(dir);
    process.env.HARDKMS_YUBIKEY_EMULATOR_DIR = dir;
    const d = new EmulatorDriver();
    const cred = { serial: k.serial, slot: 2 as const, label: 'bob' };
    const challenge = newChallenge();
    const secret = Buffer.from(readFileSync(k.path, 'utf8').trim(), 'hex');
    const r = await d.respond(cred, challenge);
    expect(r.equals(createHmac('sha1', secret).update(challenge).digest())).toBe(true);
    await reprogramEmulatedKey(dir, k.serial);
    expect((await d.respond(cred, challenge)).equals(r)).toBe(false);
    rmSync(k.path);
    await expect(d.respond(cred, challenge)).rejects.toMatchObject({ code: 'GATE_NO_YUBIKEY' });
  });

  it('refuses key files others can read, and works without the directory', async () => {
    const dir = fresh();
    const k = await createEmulatedKey(dir);
    chmodSync(k.path, 0o644);
    await expect(
      new EmulatorDriver(dir).respond({ serial: k.serial, slot: 2, label: 'x' }, newChallenge()),
    ).rejects.toThrow(/readable by other users/);
    expect(await new EmulatorDriver(join(dir, 'nope')).listSerials()).toEqual([]);
    delete process.env.HARDKMS_YUBIKEY_EMULATOR_DIR;
    await expect(new EmulatorDriver().listSerials()).rejects.toThrow(/HARDKMS_YUBIKEY_EMULATOR_DIR is not set/);
  });
});
