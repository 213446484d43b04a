/**
 * Mainnet: §3.1 rule 3 is only visible where the chains' paths differ. A mainnet daemon
 * (password-sealed vault, the audited override flags) signs MATIC transactions that name an
 * ETH mnemonic wallet; Hardhat runs with Polygon's chain id 137 (pinned, no override on
 * mainnet) and mines them.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { storeMnemonicEntry } from '../../src/vault/tatum-wallets.js';
import type { CliResult } from '../support/cli.js';
import { startHardhatNode, type HardhatNode } from '../../scripts/lib/hardhat-node.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { explain, runDaemon } from './support.js';
import { fixtureTests, fundSenders, MAINNET_FIXTURES, MAINNET_WALLETS, type Fixture } from './tatum-fixtures.js';

describe(
  "Tatum fixture corpus, mainnet: a top-level index derives on the transaction's chain",
  { timeout: 300_000 },
  () => {
    let tv: TestVault;
    let api: FakeTatumApi;
    let polygon: HardhatNode;
    const evm = new Map<string, HardhatNode>();
    const served = new Map<string, Fixture['pending']>();
    let run: CliResult;

    beforeAll(async () => {
      tv = await createTestVault({ testnetOnly: false });
      for (const [id, w] of Object.entries(MAINNET_WALLETS))
        storeMnemonicEntry(tv.vault, chainKit(w.chain), w.testnet, Buffer.from(w.mnemonic!, 'utf8'), id);
      tv.vault.seal('test setup');
      polygon = await startHardhatNode({ chainId: 137 });
      evm.set('MATIC', polygon);
      api = await FakeTatumApi.start({ nodes: { MATIC: { kind: 'evm', url: polygon.url } } });
      await fundSenders(MAINNET_FIXTURES, evm);
      for (const f of MAINNET_FIXTURES) {
        served.set(f.name, f.pending);
        api.queue(f.pending);
      }
      const policy = join(dirname(tv.path), 'policy.json');
      writeFileSync(policy, JSON.stringify({ chains: { MATIC: { maxAmount: '100000000000000000' } } }));
      run = await runDaemon(tv, api, [
        '--runOnce',
        '--chain',
        'MATIC',
        '--wallets',
        Object.keys(MAINNET_WALLETS).join(','),
        '--policy',
        policy,
        '--i-understand-mainnet-without-approval',
        '--allow-insecure-http',
      ]);
    }, 300_000);

    afterAll(async () => {
      await api?.stop();
      await polygon?.stop();
    });

    it('the mainnet cycle signed every fixture', () => {
      expect(run.code, explain(run)).toBe(0);
      expect(api.errorReports).toEqual([]);
    });

    fixtureTests(MAINNET_FIXTURES, () => ({ api, served, evm, log: run.stderr }));
  },
);
