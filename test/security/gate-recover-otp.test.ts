import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateOtp } from '../../src/gate/otp-testing.js';
import { expectError, expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 5): `recover` skipped the OTP-at-unseal check. With two recovery
 * sheets and no OTP it re-enrolled the keys and rotated the token PIN on a vault that
 * requires an OTP at every unseal. Must hold: recover enforces the vault's OTP policy,
 * changes nothing without it, and is audited like an unseal.
 */
const PUBLIC_ID = 'ccccccbcgujh';

describe('attack: two recovery sheets and no OTP on a vault that requires one', () => {
  const bench = new GateBench();
  const aesKey = randomBytes(16);
  const privateId = randomBytes(6);
  let session = 0;
  const nextOtp = (): string =>
    generateOtp(aesKey, { publicId: PUBLIC_ID, privateId, useCounter: 1, sessionCounter: session++ });
  let sheets: string[];

  beforeAll(async () => {
    const init = await bench.init(['alice', 'bob']);
    sheets = await bench.recoveryShares(init);
    expect(sheets).toHaveLength(2);
    const add = await bench.cli(
      [
        'otp',
        'add',
        '--public-id',
        PUBLIC_ID,
        '--private-id',
        privateId.toString('hex'),
        '--verify',
        nextOtp(),
        '--at-unseal',
      ],
      {
        input: `${aesKey.toString('hex')}\n`,
      },
    );
    expectOk(add);
  });

  it('recover without the OTP is refused and changes nothing; with it, it works', async () => {
    bench.only(); // the keys are lost: that is why the sheets come out
    const before = bench.sealRecord();
    const r = await bench.cli(['recover', '--labels', 'carol,dave'], { input: `${sheets[0]}\n${sheets[1]}\n` });
    expectError(r, 'OTP_REQUIRED', /`hardkms recover` needs a Yubico OTP/);
    expect(r.stderr).toContain('1 of 2 given');
    expect(bench.sealRecord()).toEqual(before);
    const events = bench.auditEvents();
    expect(
      events.some((e) => e.event === 'otp.verify' && e.result === 'denied' && e.details.command === 'recover'),
    ).toBe(true);
    expect(events.some((e) => e.event === 'recover' && e.result === 'fail' && e.details.error === 'OTP_REQUIRED')).toBe(
      true,
    );

    const ok = await bench.cli(['recover', '--labels', 'carol,dave', '--otp', nextOtp()], {
      input: `${sheets[0]}\n${sheets[1]}\n`,
    });
    expectOk(ok);
    expect(bench.sealRecord().credentials.map((c) => c.label)).toEqual(['carol', 'dave']);
  });
});
