/**
 * Issue 10, off-host forwarding to an HTTPS JSON-lines endpoint (the second sink kind beside
 * RFC 5424 syslog): every record is POSTed, as written, to a real HTTPS server on 127.0.0.1
 * whose CA is bound at init; with the endpoint down or answering an error, nothing audited
 * happens (fail closed); when it is back, the records written meanwhile are sent first, in order.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { freePort } from '../../scripts/lib/ports.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';

describe('audit forwarding to an HTTPS JSON-lines endpoint', () => {
  let dir: string;
  let path: string;
  let env: Record<string, string>;
  let port: number;
  let server: Server | undefined;
  let key: Buffer;
  let cert: Buffer;
  let answer = 200;
  const received: string[] = [];
  const cli = (args: string[]): Promise<CliResult> => runCli([...args, '--path', path], { env });
  const log = (): string[] => readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean);

  const start = (): Promise<void> =>
    new Promise((resolve) => {
      server = createServer({ key, cert }, (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          if (req.method === 'POST' && req.url === '/audit' && answer === 200)
            received.push(...body.split('\n').filter(Boolean));
          res.statusCode = req.url === '/audit' ? answer : 404;
          res.end();
        });
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const stop = (): Promise<void> => new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hardkms-forward-https-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=audit-sink',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'sink.key'),
        '-out',
        join(dir, 'sink.pem'),
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'sink.key'));
    cert = readFileSync(join(dir, 'sink.pem'));
    port = await freePort();
    await start();
    const token = createTestToken('hardkms', { setProcessEnv: false });
    path = join(dir, 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: 'forward-https-password' };
    const init = await runCli(
      [
        'init',
        '--testnet',
        '--path',
        path,
        '--audit-forward',
        `https://127.0.0.1:${port}/audit`,
        '--audit-forward-ca',
        join(dir, 'sink.pem'),
      ],
      { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } },
    );
    expect(init.code, init.stderr).toBe(0);
  }, 120_000);
  afterAll(stop);

  it('POSTs every record as written; the forwarded lines are the local log', async () => {
    const gen = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(gen.code, gen.stderr).toBe(0);
    expect(received).toEqual(log());
  }, 60_000);

  it('with the endpoint answering 503, or down: nothing audited happens, the command says why; then it catches up in order', async () => {
    const before = log().length;
    answer = 503;
    const refused = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(refused.code).not.toBe(0);
    expect(refused.error().code).toBe('AUDIT_FORWARD_DOWN');
    expect(refused.stdout).not.toContain('signatureId');
    answer = 200;
    await stop();
    const down = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(down.error().code).toBe('AUDIT_FORWARD_DOWN');
    expect(
      log()
        .slice(before)
        .every((l) => JSON.parse(l).event === 'unseal'),
    ).toBe(true);
    await start();
    const back = await cli(['generatemanagedwallet', 'ETH', '--testnet']);
    expect(back.code, back.stderr).toBe(0);
    expect(received).toEqual(log());
  }, 120_000);
});
