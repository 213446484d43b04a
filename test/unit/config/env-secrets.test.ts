import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenPinFromUser } from '../../../src/cli/init.js';
import { ENV_VARS } from '../../../src/config/env.js';

/** Issue 9 item 8: secrets passed in the environment are taken out of it once read. */
const SECRET_ENV = ENV_VARS.filter((v) => v.secret).map((v) => v.name);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('secrets from the environment', () => {
  it('the token PIN is read as bytes and removed from process.env', async () => {
    process.env.HARDKMS_TOKEN_PIN = '8461-pin';
    const pin = await tokenPinFromUser();
    expect(pin.toString('utf8')).toBe('8461-pin');
    expect(process.env.HARDKMS_TOKEN_PIN).toBeUndefined();
  });

  it('no module reads a secret variable from process.env directly (only through takeEnvSecret, which deletes it)', () => {
    const direct = sources(join(__dirname, '../../../src')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return SECRET_ENV.filter(
        (name) => text.includes(`process.env.${name}`) || text.includes(`process.env['${name}']`),
      ).map((name) => `${f}: ${name}`);
    });
    expect(direct).toEqual([]);
  });
});
