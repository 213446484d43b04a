/**
 * Two habits of Tatum KMS users (issue 11 item 9): the API key in Tatum's own
 * ~/.tatumrc/.env, and --runOnce --wallets naming wallets of both networks.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, explain, runDaemon, testKey } from './support.js';

const TO = '0x4444444444444444444444444444444444444444';
const ethTx = (nonce: number) => JSON.stringify({ to: TO, value: '1', gasPrice: '1000000000', gas: 21000, nonce });

describe('daemon: Tatum users’ ~/.tatumrc/.env and --wallets across networks', () => {
  let api: FakeTatumApi;
  let tv: TestVault;
  let testnetId: string;
  let mainnetId: string;
  let home: string;

  beforeAll(async () => {
    tv = await createTestVault();
    testnetId = addPrivateKey(tv.vault, 'ETH', true, testKey(0x71));
    mainnetId = addPrivateKey(tv.vault, 'ETH', false, testKey(0x72));
    tv.vault.seal('test setup');
    api = await FakeTatumApi.start();
    home = mkdtempSync(join(tmpdir(), 'hardkms-home-'));
    mkdirSync(join(home, '.tatumrc'));
    // As a Tatum KMS user has it; the names off the allow-list must not steer the signer.
    writeFileSync(
      join(home, '.tatumrc', '.env'),
      `TATUM_API_KEY=${api.apiKey}\nTATUM_API_URL=${api.url}\nHARDKMS_CHAIN_ID_ETH=1\nNODE_OPTIONS=--require /tmp/evil.js\n`,
    );
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('finds TATUM_API_KEY and TATUM_API_URL in ~/.tatumrc/.env, as Tatum KMS does, and ignores (names) every other variable there', async () => {
    api.clearQueue();
    const id = api.queue({ chain: 'ETH', hashes: [testnetId], serializedTransaction: ethTx(0) });
    const r = await runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'ETH'], {
      HOME: home,
      // Unset in the process environment: only the file has them.
      TATUM_API_KEY: undefined as unknown as string,
      TATUM_API_URL: undefined as unknown as string,
      HARDKMS_CHAIN_ID_ETH: '11155111',
    });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/\.tatumrc\/\.env: ignored HARDKMS_CHAIN_ID_ETH, NODE_OPTIONS/);
    const polls = api.requestsTo('/v3/kms/pending/ETH');
    expect(polls.at(-1)?.headers['x-api-key']).toBe(api.apiKey);
    // The chain id came from the process environment, not from the file's 1.
    expect(api.broadcasts.find((b) => b.signatureId === id)?.error).toBeUndefined();
  });

  it('--runOnce --wallets with wallets of both networks: every chain is asked about all of them; the other network’s wallet is reported, never used', async () => {
    api.clearQueue();
    const good = api.queue({ chain: 'ETH', hashes: [testnetId], serializedTransaction: ethTx(1) });
    const other = api.queue({ chain: 'ETH', hashes: [mainnetId], serializedTransaction: ethTx(0) });
    const r = await runDaemon(
      tv,
      api,
      ['--runOnce', '--testnet', '--chain', 'ETH,BSC', '--wallets', `${testnetId},${mainnetId}`],
      {
        HARDKMS_CHAIN_ID_ETH: '11155111',
        HARDKMS_CHAIN_ID_BSC: '97',
      },
    );
    for (const chain of ['ETH', 'BSC']) {
      const body = api.requestsTo(`/v3/kms/pending/${chain}`).at(-1)?.json as { signatureIds?: string[] } | undefined;
      expect(body?.signatureIds, chain).toEqual([testnetId, mainnetId]);
    }
    expect(api.broadcasts.find((b) => b.signatureId === good)?.error, explain(r)).toBeUndefined();
    expect(api.broadcasts.some((b) => b.signatureId === other)).toBe(false);
    const reported = api.errorReports.find((e) => e.signatureId === other);
    expect(reported?.error).toMatch(/mainnet wallets, not used by a testnet daemon/);
  });
});
