/**
 * Issue 10, off-host forwarding, for the daemon: with the audit sink (a real rsyslogd on
 * 127.0.0.1) down, the daemon must not sign or broadcast anything and must say why (fail
 * closed, as Vault does when no audit device can be written); when the sink is back it signs,
 * and the sink holds every record in order.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { freePort } from '../../scripts/lib/ports.js';
import { haveRsyslog, rsyslog, type Rsyslog } from '../support/rsyslog.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { passwordProvider } from '../support/vault.js';
import { addPrivateKey, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

if (!haveRsyslog)
  console.warn(
    'audit-forward-daemon: SKIPPED: no /usr/sbin/rsyslogd. Install it: bash scripts/setup.sh (Debian package rsyslog).',
  );

describe.skipIf(!haveRsyslog)('the daemon with its audit sink down', () => {
  let sink: Rsyslog;
  let vault: Vault;
  let api: FakeTatumApi;
  let signer: Signer;
  let dir: string;
  let wallet: string;
  const log = (): string[] => readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean);
  const tx = (nonce: number): string =>
    JSON.stringify({ to: '0x' + '12'.repeat(20), value: '1', gasPrice: '1000000000', gas: 21000, nonce });

  beforeAll(async () => {
    const port = await freePort();
    sink = rsyslog({ tcpPort: port });
    await sink.start();
    createTestToken();
    dir = mkdtempSync(join(tmpdir(), 'hardkms-forward-daemon-'));
    vault = await Vault.init({
      path: join(dir, 'wallet.dat'),
      token: {},
      tokenPin: Buffer.from(TEST_PIN),
      provider: passwordProvider(),
      testnetOnly: true,
      auditForward: { url: `syslog+tcp://127.0.0.1:${port}` },
      actor: 'test',
    });
    wallet = addPrivateKey(vault, 'ETH', true, testKey(0x71));
    api = await FakeTatumApi.start();
    signer = inProcessSigner(vault, api, { testnet: true, chains: ['ETH'] });
  });
  afterAll(async () => {
    signer?.close();
    await api?.stop();
    try {
      vault?.seal('test end');
    } catch {
      // the sink may be down: sealing is then refused like any audited act
    }
    await sink?.stop();
  });

  it('signs and broadcasts nothing while the sink is down, says why, and signs once it is back', async () => {
    await sink.stop();
    const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: tx(0) });
    const down = await cycle(signer);
    expect(api.broadcasts).toEqual([]);
    const said = [down.error?.code, down.error?.message, ...api.errorReports.map((e) => e.error)].join(' ');
    expect(said).toMatch(/AUDIT_FORWARD_DOWN/);
    // Nothing was recorded as signed while the sink could not take it.
    expect(log().some((l) => l.includes('"event":"sign"') && l.includes(id))).toBe(false);

    await sink.start();
    api.clearQueue();
    const again = api.queue({ id, chain: 'ETH', hashes: [wallet], serializedTransaction: tx(0) });
    const up = await cycle(signer);
    expect(up.error).toBeUndefined();
    expect(api.broadcasts.map((b) => b.signatureId)).toEqual([again]);
    for (let i = 0; i < 100 && sink.lines().length < log().length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sink.lines()).toEqual(log());
  }, 120_000);
});
