import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('operator commands: list, init on a shared token, token backup', () => {
  let token: TestToken;
  let dir: string;
  let path: string;
  let env: Record<string, string>;
  let vaultId: string;
  const cli = (args: string[], input?: string, p = path): Promise<CliResult> =>
    runCli([...args, '--path', p], { env, ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    token = createTestToken('hardkms', { setProcessEnv: false });
    dir = mkdtempSync(join(tmpdir(), 'hardkms-ops-'));
    path = join(dir, 'wallet.dat');
    env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD, HARDKMS_TOKEN_PIN: TEST_PIN };
    const init = await cli(['init', '--testnet']);
    expect(init.code, init.stderr).toBe(0);
    vaultId = (init.json() as { vaultId: string }).vaultId;
  });

  it('list shows chain, net, id, kind, address or xpub and created, filters by chain and net, and never a secret', async () => {
    const ltc = (await cli(['storemanagedwallet', 'LTC', '--testnet'], `${MNEMONIC}\n`)).json() as {
      signatureId: string;
      xpub: string;
    };
    const eth = (await cli(['generatemanagedprivatekeybatch', 'ETH', '2', '--testnet'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { signatureId: string; address: string });
    const all = await cli(['list', '--output', 'json']);
    expect(all.code, all.stderr).toBe(0);
    const rows = all.json() as Array<Record<string, string>>;
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.signatureId === ltc.signatureId)).toMatchObject({
      chain: 'LTC',
      net: 'testnet',
      kind: 'mnemonic',
      addressOrXpub: ltc.xpub,
    });
    expect(rows.find((r) => r.signatureId === eth[0]!.signatureId)).toMatchObject({
      chain: 'ETH',
      kind: 'privateKey',
      addressOrXpub: eth[0]!.address,
    });
    expect(Object.keys(rows[0]!).sort()).toEqual(['addressOrXpub', 'chain', 'created', 'kind', 'net', 'signatureId']);
    expect(all.stdout).not.toContain('abandon');

    const onlyEth = (await cli(['list', '--chain', 'eth', '--output', 'json'])).json() as unknown[];
    expect(onlyEth).toHaveLength(2);
    expect((await cli(['list', '--mainnet', '--output', 'json'])).json()).toEqual([]);
    const table = await cli(['list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^chain +net +signatureId +kind +addressOrXpub +created$/);
    expect(table.stdout).toContain('3 wallet(s)');
    expect(table.stdout).not.toContain('abandon');

    const bad = await cli(['list', '--output', 'yaml']);
    expect(bad.error()).toMatchObject({ code: 'INVALID_INPUT' });
    const missing = await cli(['getaddress', 'no-such-id', '0']);
    expect(missing.error().code).toBe('WALLET_NOT_FOUND');
    expect(missing.error().hint).toContain('hardkms list');
  }, 180_000);

  it('init on a token that already holds another vault is refused, naming it, and creates nothing; --share-token accepts it', async () => {
    const second = join(dir, 'second.dat');
    const r = await cli(['init', '--testnet'], undefined, second);
    expect(r.code).not.toBe(0);
    expect(r.error().code).toBe('HSM_TOKEN_IN_USE');
    expect(r.error().error).toContain(`${vaultId.slice(0, 8)}…`);
    expect(r.error().hint).toContain('--share-token');
    expect(existsSync(second)).toBe(false);
    const shared = await cli(['init', '--testnet', '--share-token'], undefined, second);
    expect(shared.code, shared.stderr).toBe(0);
  });

  it('token backup writes a verified copy into a new directory and refuses to overwrite one (audited)', async () => {
    const to = join(dir, 'token-backup-1');
    const r = await cli(['token', 'backup', '--to', to]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json() as { backup: string; files: string[] };
    expect(out.files).toContain('token.object');
    expect(existsSync(join(out.backup, 'manifest.json'))).toBe(true);
    const again = await cli(['token', 'backup', '--to', to]);
    expect(again.error().code).toBe('BACKUP_EXISTS');
    expect((await cli(['audit', 'show'])).stdout).toMatch(/token\.backup/);
  });
});

describe('status as a health check', () => {
  it('reports the token, backups, wallet counts per chain and net; exits 1 with a damaged token; --output json|text', async () => {
    const token = createTestToken('hardkms', { setProcessEnv: false });
    const path = join(mkdtempSync(join(tmpdir(), 'hardkms-status-')), 'wallet.dat');
    const env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD, HARDKMS_TOKEN_PIN: TEST_PIN };
    const cli = (args: string[], input?: string) =>
      runCli([...args, '--path', path], { env, ...(input !== undefined ? { input } : {}) });
    expect((await cli(['init', '--testnet'])).code).toBe(0);
    expect((await cli(['storemanagedwallet', 'LTC', '--testnet'], `${MNEMONIC}\n`)).code).toBe(0);

    const ok = await cli(['status', '--output', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    const s = ok.json() as {
      health: {
        ok: boolean;
        checks: Array<{ check: string; state: string }>;
        walletCounts: unknown;
        tokenFiles: { state: string };
      };
    };
    expect(s.health.ok).toBe(true);
    expect(s.health.walletCounts).toEqual([{ chain: 'LTC', net: 'testnet', count: 1 }]);
    expect(s.health.tokenFiles.state).toBe('ok');
    expect(s.health.checks.find((c) => c.check === 'token reachable')?.state).toBe('ok');
    // The last unseal (storemanagedwallet's) is named, and the audit head was checked then.
    const unseal = s.health.checks.find((c) => c.check === 'last unseal') as
      { state: string; detail: string } | undefined;
    expect(unseal?.state).toBe('ok');
    expect(unseal?.detail).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(s.health.checks.find((c) => c.check === 'audit head')).toMatchObject({
      state: 'ok',
      detail: expect.stringContaining(`at the unseal of ${unseal!.detail}`),
    });
    expect((ok.json() as { seal: unknown }).seal).toEqual({
      provider: 'password',
      kdf: { name: 'scrypt', N: expect.any(Number), r: expect.any(Number), p: expect.any(Number) },
    });

    // --daemon-url: what the endpoint answers never stands in for what status measured (its URL,
    // its HTTP status), and its text reaches the terminal only as printable text.
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: 'http://elsewhere.example/', httpStatus: 200, status: '\u001b[2Jall fine' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const daemonUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const withDaemon = await cli(['status', '--output', 'json', '--daemon-url', daemonUrl]);
      const h = (
        withDaemon.json() as {
          health: { daemon: Record<string, unknown>; checks: Array<{ check: string; state: string; detail: string }> };
        }
      ).health;
      expect(h.daemon).toMatchObject({ url: `${daemonUrl}/healthz`, httpStatus: 503 });
      const check = h.checks.find((c) => c.check === 'daemon');
      expect(check?.state).toBe('problem');
      expect(check?.detail).not.toContain('\u001b');
      expect(check?.detail).toContain('all fine');
    } finally {
      server.close();
    }

    const table = await cli(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^check +state +detail$/m);
    expect(table.stdout).toMatch(/^token files +ok +whole/m);

    // A PIN change after the last token backup is flagged (warning, not a failure).
    expect((await cli(['token', 'backup', '--to', join(token.dir, 'b1')])).code).toBe(0);
    expect((await cli(['rotate'], 'new-password-for-rotate\n')).code).toBe(0);
    const after = (await cli(['status', '--output', 'json'])).json() as {
      health: { tokenBackups: { backupOlderThanPinChange: boolean } };
    };
    expect(after.health.tokenBackups.backupOlderThanPinChange).toBe(true);

    const { writeFileSync } = await import('node:fs');
    const { tokenObjectPath } = await import('../../support/token-kill.js');
    writeFileSync(tokenObjectPath(token.tokenDir), Buffer.alloc(0));
    const bad = await cli(['status', '--output', 'json']);
    expect(bad.code).toBe(1);
    expect(bad.error().code).toBe('STATUS_UNHEALTHY');
    expect((bad.json() as { health: { tokenFiles: { state: string } } }).health.tokenFiles.state).toBe('damaged');
  }, 240_000);
});
