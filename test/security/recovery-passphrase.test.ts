import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectOk, gateInitArgs, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 5, "sheets skip a credential's passphrase"): operators enrolled
 * with `--passphrase` need key + passphrase to unseal, but their recovery shares were the
 * raw Shamir shares. Whoever got two share files (a decrypted copy left on a laptop, an
 * operator's age identity stolen, a coerced operator who never knew the other's
 * passphrase) ran `recover` with no passphrase at all, enrolled their own keys and
 * rotated the PIN: recovery was weaker than the gate.
 * Must hold: a share of a passphrase credential opens only with that operator's
 * passphrase; without it, or with a wrong one, `recover` changes nothing.
 */

const PASSPHRASES = 'ann-passphrase\nben-passphrase\n';
const INIT = gateInitArgs(['ann', 'ben'], { flags: ['--passphrase'] });

describe('attack: recovery shares of passphrase credentials used without the passphrases', () => {
  const bench = new GateBench();
  let sheets: string[] = [];

  beforeAll(async () => {
    const init = await bench.cli(INIT, { input: PASSPHRASES });
    expectOk(init);
    bench.learn(init);
    sheets = await bench.recoveryShares(init);
    expect(sheets).toHaveLength(2);
    // Every key lost: only the sheets are left.
    bench.only();
  });

  it('both sheets and no passphrase: recover is refused and the gate is unchanged', async () => {
    const before = bench.sealRecord();
    const r = await bench.cli(['recover', '--labels', 'mallory,trent'], { input: `${sheets.join('\n')}\n` });
    expect(r.code).not.toBe(0);
    expectError(r, 'GATE_PASSPHRASE_REQUIRED', /ann/);
    expect(bench.sealRecord()).toEqual(before);
  });

  it('both sheets and guessed passphrases: refused, naming whose passphrase failed', async () => {
    const before = bench.sealRecord();
    const r = await bench.cli(['recover', '--labels', 'mallory,trent'], {
      input: `${sheets.join('\n')}\nann-passphrase\nguess\n`,
    });
    expectError(r, 'GATE_RECOVERY_PASSPHRASE', /ben/);
    expect(bench.sealRecord()).toEqual(before);
  });

  it("a sheet does not carry another operator's passphrase: ann's passphrase does not open ben's sheet", async () => {
    const r = await bench.cli(['recover', '--labels', 'mallory,trent'], {
      input: `${sheets.join('\n')}\nann-passphrase\nann-passphrase\n`,
    });
    expectError(r, 'GATE_RECOVERY_PASSPHRASE', /ben/);
  });

  it('the sheets with their owners passphrases recover onto new keys', async () => {
    const r = await bench.cli(['recover', '--labels', 'cleo,dan'], { input: `${sheets.join('\n')}\n${PASSPHRASES}` });
    expectOk(r);
    expect(bench.sealRecord().credentials.map((c) => c.label)).toEqual(['cleo', 'dan']);
  });
});
