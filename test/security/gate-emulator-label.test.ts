import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOk, GateBench } from '../support/gate-bench.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { withFile } from './support.js';

/**
 * Attack (issue 9, item 2, "2c"): "The emulator stays refused on mainnet, and that refusal
 * must not rest on a label an attacker can write." The emulator answers from key files on
 * disk, with no touch and no hardware: a vault it opens has no gate at all. A testnet vault
 * with emulated keys is legitimate (demos, CI). The attacker has write access to wallet.dat
 * (no quorum) and rewrites every label the mainnet refusal could rest on: the vault's
 * `testnet_only`, the seal's `allowEmulated` and default `driver`, each credential's
 * `driver`, and the recorded gate policy. Then they ask for a mainnet wallet, and start a
 * mainnet daemon, on that emulated gate.
 * Must hold: nothing is created or signed for mainnet; the edit is named as tampering.
 *
 * Run against the code before this session's custody work (7fae8ac): the attack did not
 * succeed there either (the meta MAC covered these labels already). What no test here can
 * close: whoever holds the emulated quorum (reads the key files) holds the store key and
 * can re-MAC any label; see the runbook's threat model.
 */

type Seal = Record<string, unknown> & { credentials: Array<Record<string, unknown>> };

describe('attack: relabel an emulated testnet vault so that mainnet accepts it', () => {
  const bench = new GateBench();
  let pristine: Array<{ key: string; value: string }>;
  const policy = join(bench.dir, 'policy.json');
  let api: FakeTatumApi;
  afterAll(async () => {
    await api?.stop();
  });

  beforeAll(async () => {
    api = await FakeTatumApi.start({});
    await bench.init(['alice', 'bob']);
    writeFileSync(policy, JSON.stringify({ chains: { BTC: {} } }));
    expectOk(await bench.cli(['generatemanagedwallet', 'BTC', '--testnet']));
    pristine = withFile(
      bench.path,
      (db) => db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>,
    );
  });

  const restore = (): void =>
    withFile(bench.path, (db) => {
      const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      db.prepare('DELETE FROM meta').run();
      for (const r of pristine) put.run(r.key, r.value);
    });

  const edits: Record<string, (seal: Seal, meta: Map<string, string>) => void> = {
    'testnet_only=false': (_s, m) => m.set('testnet_only', 'false'),
    'testnet_only=false, allowEmulated': (s, m) => {
      m.set('testnet_only', 'false');
      s.allowEmulated = true;
    },
    'testnet_only=false, allowEmulated, gate policy emulatedOnMainnet': (s, m) => {
      m.set('testnet_only', 'false');
      s.allowEmulated = true;
      m.set(
        'gate_policy',
        JSON.stringify({ passwordOnMainnet: false, emulatedOnMainnet: true, singleOperatorOnMainnet: false }),
      );
    },
    'testnet_only deleted, drivers relabelled ykman': (s, m) => {
      m.delete('testnet_only');
      s.driver = 'ykman';
      for (const c of s.credentials) c.driver = 'ykman';
    },
  };

  for (const [name, edit] of Object.entries(edits)) {
    it(`${name}: no mainnet wallet, no mainnet daemon`, async () => {
      restore();
      withFile(bench.path, (db) => {
        const meta = new Map(
          (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [
            r.key,
            r.value,
          ]),
        );
        const seal = JSON.parse(meta.get('seal')!) as Seal;
        edit(seal, meta);
        meta.set('seal', JSON.stringify(seal));
        db.prepare('DELETE FROM meta').run();
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        for (const [k, v] of meta) put.run(k, v);
      });
      const countBefore = withFile(
        bench.path,
        (db) => (db.prepare('SELECT COUNT(*) AS n FROM wallets').get() as { n: number }).n,
      );

      const wallet = await bench.cli(['generatemanagedwallet', 'BTC']);
      expect(wallet.code, wallet.stdout).not.toBe(0);
      expect(['VAULT_META_TAMPERED', 'GATE_EMULATOR_REFUSED', 'GATE_QUORUM_NOT_MET', 'VAULT_TESTNET_ONLY']).toContain(
        wallet.error().code,
      );
      // Everything a mainnet daemon asks for besides the gate is given: a policy, a Tatum API that
      // answers (checked before the touches; http on 127.0.0.1 by flag), the approval override.
      const daemon = await bench.cli(
        [
          'daemon',
          '--runOnce',
          '--chain',
          'BTC',
          '--policy',
          policy,
          '--i-understand-mainnet-without-approval',
          '--allow-insecure-http',
        ],
        { env: { TATUM_API_KEY: 'k', TATUM_API_URL: api.url } },
      );
      expect(daemon.code, daemon.stdout).not.toBe(0);
      expect([
        'VAULT_META_TAMPERED',
        'GATE_EMULATOR_REFUSED',
        'GATE_QUORUM_NOT_MET',
        'DAEMON_MAINNET_REFUSED',
      ]).toContain(daemon.error().code);
      // Refused for the gate, not for something else the daemon lacks.
      if (daemon.error().code === 'DAEMON_MAINNET_REFUSED') expect(daemon.error().error).toMatch(/emulated keys/);
      expect(
        withFile(bench.path, (db) => (db.prepare('SELECT COUNT(*) AS n FROM wallets').get() as { n: number }).n),
      ).toBe(countBefore);
    });
  }

  it('the untouched vault still works on testnet (the harness is sound)', async () => {
    restore();
    expectOk(await bench.cli(['generatemanagedwallet', 'BTC', '--testnet']));
  });
});
