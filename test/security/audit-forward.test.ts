import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { freePort } from '../../scripts/lib/ports.js';
import { haveRsyslog, haveRsyslogTls, rsyslog, type Rsyslog } from '../support/rsyslog.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';

/**
 * Off-host forwarding to a real rsyslogd on 127.0.0.1: every record reaches the sink
 * before its effect leaves the process; with the sink down nothing audited happens (fail
 * closed) and the records written meanwhile follow in order when it is back; and a
 * whole-file rollback of wallet.dat + audit.log to an older backup, which verifies on its
 * own, is caught against the forwarded copy (or the auditor's noted head).
 */
if (!haveRsyslog)
  console.warn(
    'audit-forward: SKIPPED: no /usr/sbin/rsyslogd. Install it: bash scripts/setup.sh (Debian package rsyslog).',
  );

describe.skipIf(!haveRsyslog)('audit forwarding to rsyslog (RFC 5424 over TCP)', () => {
  let sink: Rsyslog;
  let dir: string;
  let path: string;
  let env: Record<string, string>;
  const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--path', path], { env });
  const log = (): string[] => readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean);
  const settle = async (): Promise<void> => {
    // rsyslog writes asynchronously to its file: wait until it holds what was sent.
    for (let i = 0; i < 100 && sink.lines().length < log().length; i++) await new Promise((r) => setTimeout(r, 100));
  };

  beforeAll(async () => {
    sink = rsyslog({ tcpPort: await freePort() });
    await sink.start();
    const token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-forward-'));
    path = join(dir, 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: 'forward-test-password' };
    const port = /port="(\d+)"/.exec(readFileSync(join(sink.dir, 'rsyslog.conf'), 'utf8'))![1];
    const init = await runCli(
      ['init', '--testnet', '--path', path, '--audit-forward', `syslog+tcp://127.0.0.1:${port}`],
      {
        env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
      },
    );
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(async () => {
    await sink?.stop();
  });

  let backup: string;
  let notedHead: string;
  it('sends every record as written; verify --against the forwarded copy agrees', async () => {
    expect((await cli(['generatemanagedwallet', 'ETH', '--testnet'])).code).toBe(0);
    await settle();
    expect(sink.lines()).toEqual(log());
    const v = await cli(['audit', 'verify', '--against', sink.output]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, against: { ok: true, matched: log().length, notForwarded: 0 } });
    // The operator's backup, and the head the auditor notes.
    backup = mkdtempSync(join(tmpdir(), 'hardkms-forward-backup-'));
    for (const f of ['wallet.dat', 'audit.log']) copyFileSync(join(dir, f), join(backup, f));
    notedHead = (v.json() as { head: string }).head;
  });

  it('with the sink down: nothing audited happens, the command says why (fail closed)', async () => {
    const before = log().length;
    await sink.stop();
    const gen = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(gen.code).not.toBe(0);
    expect(gen.error().code).toBe('AUDIT_FORWARD_DOWN');
    expect(gen.stdout).not.toContain('signatureId');
    const shown = await cli(['generatewallet', 'ETH', '--testnet']);
    expect(shown.code).not.toBe(0);
    expect(shown.stdout).not.toContain('mnemonic');
    // Only the unseal attempt's records are kept locally (for the sink to get later); the
    // last one says why it failed. generatewallet wrote nothing: its secret was not shown.
    const kept = log()
      .slice(before)
      .map((l) => JSON.parse(l) as { event: string; result: string; details: { code?: string } });
    expect(kept.every((r) => r.event === 'unseal')).toBe(true);
    expect(kept.at(-1)).toMatchObject({ result: 'fail', details: { code: 'AUDIT_FORWARD_DOWN' } });
  });

  it('when the sink is back, the records written meanwhile are sent first, in order', async () => {
    await sink.start();
    const gen = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(gen.code, gen.stderr).toBe(0);
    await settle();
    expect(sink.lines()).toEqual(log());
    expect((await cli(['audit', 'verify', '--against', sink.output])).json()).toMatchObject({
      ok: true,
      against: { ok: true },
    });
  });

  it('a whole-file rollback of wallet.dat + audit.log verifies on its own, but not against the forwarded copy or the noted head', async () => {
    for (const f of ['wallet.dat', 'audit.log']) copyFileSync(join(backup, f), join(dir, f));
    for (const side of ['wallet.dat-wal', 'wallet.dat-shm']) rmSync(join(dir, side), { force: true });
    const alone = await cli(['audit', 'verify']);
    expect(alone.json()).toMatchObject({ ok: true }); // nothing local can tell
    const against = await cli(['audit', 'verify', '--against', sink.output]);
    expect(against.code).not.toBe(0);
    expect(against.error().code).toBe('AUDIT_FORWARDED_DIVERGES');
    const seq = Number(notedHead.split(':')[0]);
    expect(against.json()).toMatchObject({ ok: false, against: { firstDivergence: seq + 1 } });
    expect(against.error().error).toMatch(/cut or rolled back/);
    // The head the auditor noted after the rollback point catches it too.
    const later = JSON.parse(sink.lines().at(-1)!) as { seq: number; hash: string };
    const noted = await cli(['audit', 'verify', '--head', `${later.seq}:${later.hash}`]);
    expect(noted.code).not.toBe(0);
    expect(noted.error().error).toMatch(/rolled back/);
  });
});

describe.skipIf(!haveRsyslog || !haveRsyslogTls)('audit forwarding to rsyslog over TLS', () => {
  it('sends the records over TLS to a sink whose CA is bound at init', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'hardkms-tls-'));
    const [ca, key, cert] = ['ca.pem', 'key.pem', 'cert.pem'].map((f) => join(certs, f));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key!,
        '-out',
        cert!,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    copyFileSync(cert!, ca!);
    const port = await freePort();
    const sink = rsyslog({ tcpPort: port, tls: { port, cert: cert!, key: key!, ca: ca! } });
    await sink.start();
    try {
      const token = createTestToken('hardkms', { setProcessEnv: false });
      const dir = mkdtempSync(join(tmpdir(), 'hardkms-forward-tls-'));
      const path = join(dir, 'wallet.dat');
      const env = { ...token.env, TATUM_KMS_PASSWORD: 'forward-tls-password' };
      const init = await runCli(
        [
          'init',
          '--testnet',
          '--path',
          path,
          '--audit-forward',
          `syslog+tls://127.0.0.1:${port}`,
          '--audit-forward-ca',
          ca!,
        ],
        {
          env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
        },
      );
      expect(init.code, init.stderr).toBe(0);
      const local = (): string[] => readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean);
      for (let i = 0; i < 100 && sink.lines().length < local().length; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(sink.lines()).toEqual(local());
    } finally {
      await sink.stop();
    }
  });
});
