import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 7): the touches that unseal `getaddress` also unsealed `export`,
 * and the prompt named neither. Someone who gets two operators to "touch for the usual
 * check" could print every private key. Must hold: a secret-revealing command on a vault
 * without OTP needs each unsealing operator's confirmation naming the command and the
 * vault, and its audit record says what authorised it.
 */
describe('attack: a secret-revealing command on the touches meant for a routine one', () => {
  const bench = new GateBench();
  let signatureId: string;
  let vaultId: string;

  beforeAll(async () => {
    const init = await bench.init(['alice', 'bob']);
    vaultId = (init.json() as { vaultId: string }).vaultId;
    signatureId = await bench.wallet('ETH');
  });

  for (const cmd of [['getprivatekey', '<id>', '0'], ['getmanagedwallet', '<id>'], ['export']]) {
    it(`\`${cmd[0]}\` with touches but no confirmation is refused and prints nothing`, async () => {
      const args = cmd.map((a) => (a === '<id>' ? signatureId : a));
      const r = await bench.cli(args, { input: '' });
      expectError(r, 'GATE_NOT_CONFIRMED');
      expect(r.stdout).toBe('');
      const half = await bench.cli(args, { input: 'yes\nno\n' });
      expectError(half, 'GATE_NOT_CONFIRMED', /bob did not approve/);
      expect(half.stdout).toBe('');
    });
  }

  it('with each operator\u2019s "yes" it runs, and the audit record says who approved', async () => {
    const r = await bench.cli(['getprivatekey', signatureId, '0'], { input: 'yes\nyes\n' });
    expectOk(r);
    expect(r.json()).toHaveProperty('privateKey');
    const show = bench
      .auditEvents()
      .filter((e) => e.event === 'secret.show')
      .at(-1)!;
    expect(show.details).toMatchObject({
      command: 'getprivatekey',
      authorisation: { by: 'operator-confirmation', operators: ['alice', 'bob'] },
    });
    expect(show.sig).not.toBeNull();
  });

  it('a routine command asks no confirmation; every touch prompt names the command and the vault', async () => {
    const r = await bench.cli(['getaddress', signatureId, '0'], { input: '' });
    expectOk(r);
    for (const l of r.stderr.split('\n').filter((x) => x.startsWith('Touch the YubiKey'))) {
      expect(l).toContain('`hardkms getaddress`');
      expect(l).toContain(vaultId);
    }
  });
});
