/**
 * `daemon --alert-webhook URL` (issue 14 item 14), end to end with the built CLI and a real
 * local HTTP server as the webhook: a critical anomaly of the audit log (the audit report's
 * list) is POSTed as JSON while the daemon runs; the body holds no secret; a webhook that
 * hangs neither holds signing up nor the daemon's stop, and its retries are bounded; on
 * mainnet a plain-http webhook is refused without --allow-insecure-http.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestToken, TEST_PIN } from '../support/softhsm.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { addPrivateKey, spawnDaemon, testKey, waitFor } from './support.js';

interface Hook {
  headers: IncomingHttpHeaders;
  path: string;
  text: string;
  json: {
    anomaly: { kind: string; severity: string; message: string; seq: number | null };
    record: { event: string } | null;
    vaultId: string;
  };
}

/** The webhook: records every POST; `hang` makes it never answer. */
class WebhookServer {
  readonly posts: Hook[] = [];
  hang = false;
  private readonly held: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.posts.push({ headers: req.headers, path: req.url ?? '', text, json: JSON.parse(text) as Hook['json'] });
        if (this.hang) this.held.push(res);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}/hooks/t0ken-in-path`;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const ethTx = (nonce: number): string =>
  JSON.stringify({
    to: '0x1111111111111111111111111111111111111111',
    value: '1000',
    gasPrice: '1000000000',
    gas: 21000,
    nonce,
  });

describe('daemon --alert-webhook', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let wallet: string;
  const hook = new WebhookServer();

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    wallet = addPrivateKey(tv.vault, 'ETH', true, testKey(0x61));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    await hook.start();
  });
  afterAll(async () => {
    await api?.stop();
    await hook.stop();
  });

  it('posts each critical anomaly as it happens, as JSON without secrets; a hanging webhook holds up neither signing nor the stop', async () => {
    const d = spawnDaemon(tv, api, ['--testnet', '--chain', 'ETH', '--period', '1', '--alert-webhook', hook.url]);
    try {
      await waitFor(() => d.lines.some((l) => l.includes('"daemon started"')), 60_000, 'daemon start');
      expect(hook.posts).toEqual([]); // a normal start is no anomaly

      // Someone tries passwords while the daemon runs: three failed unseals in a row.
      for (const guess of ['wrong guess one', 'wrong guess two', 'wrong guess three']) {
        const r = await runCli(['getaddress', wallet, '0', '--path', tv.path], {
          env: { ...tv.token.env, TATUM_KMS_PASSWORD: guess },
        });
        expect(r.code).not.toBe(0);
      }
      await waitFor(() => hook.posts.length > 0, 30_000, 'the burst alert');
      const burst = hook.posts[0]!;
      expect(burst.path).toBe('/hooks/t0ken-in-path');
      expect(burst.headers['content-type']).toMatch(/^application\/json/);
      expect(burst.json).toMatchObject({
        source: 'hardkms',
        vaultId: tv.vault.vaultId,
        anomaly: { kind: 'failed-unseal-burst', severity: 'critical' },
        record: { event: 'unseal' },
      });
      for (const secret of [TEST_PASSWORD, 'wrong guess', TEST_PIN]) expect(burst.text).not.toContain(secret);

      // The webhook now hangs; a forged record is appended to the log.
      hook.hang = true;
      const log = tv.path.replace(/wallet\.dat$/, 'audit.log');
      const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
      const last = JSON.parse(lines.at(-1)!) as { seq: number };
      appendFileSync(log, `${JSON.stringify({ ...last, seq: last.seq + 1, event: 'sign', subject: 'forged' })}\n`);
      await waitFor(() => hook.posts.length > 1, 30_000, 'the forged-record alert');
      expect(hook.posts[1]!.json.anomaly).toMatchObject({ severity: 'critical', seq: last.seq + 1 });
      expect(['broken-chain', 'edited-record', 'bad-signature', 'sequence-gap', 'sequence-reorder']).toContain(
        hook.posts[1]!.json.anomaly.kind,
      );

      // Meanwhile signing goes on: a pending transaction is signed and broadcast.
      const id = api.queue({ chain: 'ETH', hashes: [wallet], serializedTransaction: ethTx(0) });
      await waitFor(
        () => api.broadcasts.some((b) => b.signatureId === id),
        30_000,
        'the broadcast while the webhook hangs',
      );
      // Retries are bounded: 3 attempts of one alert, then it is given up and logged.
      await waitFor(
        () => d.lines.some((l) => l.includes('alert could not be delivered')),
        40_000,
        'the give-up warning',
      );
      expect(hook.posts.filter((p) => p.json.anomaly.seq === last.seq + 1)).toHaveLength(3);
      expect(d.lines.join('\n')).not.toContain('t0ken-in-path');
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    } finally {
      d.child.kill('SIGKILL');
    }
  }, 180_000);

  it('mainnet: a plain-http webhook is refused before anything runs, its URL shown as its origin only', async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-webhook-mainnet-'));
    const path = join(dir, 'wallet.dat');
    const env = {
      ...token.env,
      TATUM_KMS_PASSWORD: 'Pw9fK3Zq7xLm2vQ8',
      TATUM_API_KEY: 'k',
      TATUM_API_URL: 'https://127.0.0.1:9',
    };
    const init = await runCli(['init', '--path', path, '--allow-password-mainnet'], {
      env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN },
    });
    expect(init.code, init.stderr).toBe(0);
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ chains: { ETH: { maxAmount: '0' } } }));
    const args = [
      'daemon',
      '--runOnce',
      '--chain',
      'ETH',
      '--path',
      path,
      '--policy',
      policy,
      '--i-understand-mainnet-without-approval',
    ];
    const r = await runCli([...args, '--alert-webhook', 'http://127.0.0.1:9/hooks/secret-token'], { env });
    expect(r.error()).toMatchObject({
      code: 'DAEMON_INSECURE_TRANSPORT',
      error: expect.stringContaining('alert webhook http://127.0.0.1:9/'),
    });
    expect(r.stderr).not.toContain('secret-token');
    const bad = await runCli([...args, '--alert-webhook', 'ftp://example/x'], { env });
    expect(bad.error().code).toBe('INVALID_INPUT');
  }, 60_000);
});
