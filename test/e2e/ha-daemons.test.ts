/**
 * Issue 16, the test it names: three `hardkms daemon` processes (the built CLI) on one
 * PostgreSQL store, one shared SoftHSM2 token directory and the Tatum-compatible test server,
 * 500 pending transactions (250 LTC spent on litecoind -regtest, 250 ETH mined on Hardhat),
 * 50 rounds in each of which 10 more pending transactions arrive and a random daemon is
 * killed with SIGKILL at a random moment of its polling life and started again. At the end
 * every pending id was broadcast (accepted) exactly once, every broadcast of an id carried
 * the one raw transaction its journal row holds, every transaction is on its chain, no daemon
 * stopped by itself, and the shared audit log verifies as one chain.
 *
 * Kills come once every daemon has logged "daemon started" (it has unsealed): a process
 * killed inside C_Login can leave SoftHSM2's token.object truncated for every process of
 * the token directory (the fault test, test/e2e/fault-kill.test.ts, covers that and
 * `hardkms token repair`), and a process starting while another is inside C_Login (which
 * rewrites token.object) can find no token at all (HSM_TOKEN_NOT_FOUND, "Tokens present:
 * none": seen once in seven runs when two restarts overlapped). Both are limits of SoftHSM2's
 * file store, documented in the runbook, and the reason production runs several signers on a
 * network HSM.
 *
 * The claim lease is 3 s here (--claim-lease 3; 120 s by default) so that the claims of
 * killed daemons are taken over within the test's few minutes.
 */
import { createHash, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1';
import { payments, type Network } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAddress, hexlify } from 'ethers';
import { rawTxHash } from '../../src/signer/pipeline/journal.js';
import { runCli } from '../support/cli.js';
import { startHardhatNode, type HardhatNode } from '../../scripts/lib/hardhat-node.js';
import { LITECOIND_PATH, startLitecoind, type Litecoind, type LitecoinWallet } from '../../scripts/lib/litecoind.js';
import { bitcoreJson } from '../../scripts/lib/payloads.js';
import { havePostgres, startPostgres, type Postgres } from '../support/postgres.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { HaCluster, metricValue, waitUntil } from './ha-support.js';
import { addPrivateKey } from './support.js';

const REGTEST: Network = {
  messagePrefix: '\x19Litecoin Signed Message:\n',
  bech32: 'rltc',
  bip32: { public: 0x043587cf, private: 0x04358394 },
  pubKeyHash: 0x6f,
  scriptHash: 0x3a,
  wif: 0xef,
};
/** HARDKMS_HA_ROUNDS: fewer rounds for a quick local run (CI runs the issue's 50). */
const ROUNDS = Number(process.env.HARDKMS_HA_ROUNDS ?? 50);
const PER_ROUND = 10;
const LTC_WALLETS = 5;
/** Pending transactions of the database-restart test, after the kill test's. */
const RESTART_TX = 40;
const ETH_WALLETS = (ROUNDS * PER_ROUND + RESTART_TX) / 2;
const UTXO_SAT = 1_000_000;
const FEE = 100_000;
const GWEI = 10n ** 9n;
const DEST = '0x2222222222222222222222222222222222222222';

function key(tag: string, i: number): Uint8Array {
  return createHash('sha256').update(`hardkms ha test ${tag} ${i}`).digest();
}

describe.skipIf(!havePostgres || !existsSync(LITECOIND_PATH))(
  'three daemons on one PostgreSQL store, killed at random',
  () => {
    let pg: Postgres;
    let tv: TestVault;
    let ltc: Litecoind;
    let miner: LitecoinWallet;
    let mineTo: string;
    let eth: HardhatNode;
    let api: FakeTatumApi;
    /** Pending transactions to queue, in order (LTC and ETH alternating). */
    const payloads: { chain: 'LTC' | 'ETH'; hashes: string[]; serializedTransaction: string }[] = [];

    beforeAll(async () => {
      pg = await startPostgres();
      process.env.PGPASSFILE = pg.passFile;
      tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase('ha_kill') });
      const ltcWallets = Array.from({ length: LTC_WALLETS }, (_, i) => {
        const k = key('ltc', i);
        return {
          id: addPrivateKey(tv.vault, 'LTC', true, k),
          p2pkh: payments.p2pkh({ pubkey: secp256k1.getPublicKey(k, true), network: REGTEST }),
        };
      });
      const ethWallets = Array.from({ length: ETH_WALLETS }, (_, i) => {
        const k = key('eth', i);
        return {
          id: addPrivateKey(tv.vault, 'ETH', true, k),
          address: computeAddress(hexlify(secp256k1.getPublicKey(k, false))),
        };
      });
      tv.vault.seal('test setup');

      [ltc, eth] = await Promise.all([startLitecoind(), startHardhatNode()]);
      miner = await ltc.createWallet('miner');
      mineTo = await miner.getNewAddress('bech32');
      await ltc.generateToAddress(101, mineTo);
      // One output per LTC pending transaction (250), confirmed, so that no two spend one coin.
      const pay: Record<string, number> = {};
      const perWallet = Math.ceil(ETH_WALLETS / LTC_WALLETS);
      const fundTxs: string[] = [];
      for (let round = 0; round < perWallet; round++) {
        for (const w of ltcWallets) pay[w.p2pkh.address!] = (UTXO_SAT + round) / 1e8;
        fundTxs.push((await miner.rpc.call('sendmany', ['', pay])) as string);
        // Within the mempool's 25-transaction chain limit (each sendmany spends the last one's change).
        if (round % 10 === 9) await ltc.generateToAddress(1, mineTo);
      }
      await ltc.generateToAddress(1, mineTo);
      const utxos: { wallet: number; txid: string; vout: number; satoshis: number }[] = [];
      for (const txid of fundTxs) {
        const tx = (await ltc.getRawTransaction(txid)) as {
          vout: { n: number; value: number; scriptPubKey: { hex: string } }[];
        };
        ltcWallets.forEach((w, wi) => {
          const out = tx.vout.find((o) => o.scriptPubKey.hex === Buffer.from(w.p2pkh.output!).toString('hex'))!;
          utxos.push({ wallet: wi, txid, vout: out.n, satoshis: Math.round(out.value * 1e8) });
        });
      }
      const dest = Buffer.from(
        ((await miner.rpc.call('getaddressinfo', [await miner.getNewAddress('bech32')])) as { scriptPubKey: string })
          .scriptPubKey,
        'hex',
      );
      // Each ETH wallet sends once (nonce 0): daemons broadcasting in any order leave no nonce gap.
      for (const w of ethWallets) await eth.rpc.rpc.call('hardhat_setBalance', [w.address, '0x56bc75e2d63100000']);
      for (let i = 0; i < ETH_WALLETS; i++) {
        const u = utxos[i]!;
        const w = ltcWallets[u.wallet]!;
        payloads.push({
          chain: 'LTC',
          hashes: [w.id],
          serializedTransaction: bitcoreJson(
            [{ txid: u.txid, vout: u.vout, satoshis: u.satoshis, script: w.p2pkh.output! }],
            [{ script: dest, satoshis: u.satoshis - FEE }],
          ),
        });
        payloads.push({
          chain: 'ETH',
          hashes: [ethWallets[i]!.id],
          serializedTransaction: JSON.stringify({
            to: DEST,
            value: String(1000 + i),
            gasPrice: (2n * GWEI).toString(),
            gas: 21000,
            nonce: 0,
          }),
        });
      }
      api = await FakeTatumApi.start({
        nodes: { LTC: { kind: 'utxo', url: ltc.url }, ETH: { kind: 'evm', url: eth.url } },
      });
    }, 300_000);

    afterAll(async () => {
      await api?.stop();
      await Promise.all([ltc?.stop(), eth?.stop()]);
      pg?.destroy();
    });

    // In the default run since session 6 (it was opt-in after failing 2 of 3 runs in session 5):
    // both failures are understood and fixed, an id accepted twice (a kill between Tatum's accept
    // and the journal commit: the re-broadcaster now asks GET /v3/kms/{id} first) and a daemon that
    // exited 1 (AUDIT_LOG_CORRUPT: its per-cycle metrics read of the shared audit log saw another
    // instance's half-written append; test/e2e/ha-shared-log-read.test.ts). About 3-4 minutes here.
    it('500 pending transactions, 50 SIGKILLs: each id accepted exactly once, as its one journaled raw transaction, all on chain', async () => {
      const cluster = new HaCluster({
        pg,
        tv,
        api,
        chains: 'LTC,ETH',
        args: ['--claim-lease', '3'],
        env: { HARDKMS_CHAIN_ID_ETH: '31337' },
      });
      const ids: string[] = [];
      const kills: { round: number; victim: number; afterMs: number; signedBefore: number }[] = [];
      try {
        await cluster.start(3);
        for (let round = 0; round < ROUNDS; round++) {
          for (const p of payloads.slice(round * PER_ROUND, (round + 1) * PER_ROUND)) ids.push(api.queue(p));
          const victim = randomInt(3);
          // Every daemon up, not only the victim: one restarting in C_Login (SoftHSM2 rewrites
          // token.object there) while another starts can make the starter find no token at all.
          for (let i = 0; i < 3; i++)
            await waitUntil(() => cluster.daemons[i]!.started(), 120_000, `daemon ${i} to start`);
          const afterMs = randomInt(1500);
          await new Promise((r) => setTimeout(r, afterMs));
          kills.push({
            round,
            victim,
            afterMs,
            signedBefore: api.broadcasts.filter((b) => b.txId !== undefined).length,
          });
          await cluster.killAndRestart(victim);
        }
        await waitUntil(() => api.pendingIds().length === 0, 240_000, 'every pending transaction to be broadcast');
        // SIGTERM to a daemon still unsealing ends it with CANCELLED (130): let each one start first.
        for (let i = 0; i < 3; i++)
          await waitUntil(() => cluster.daemons[i]!.started(), 120_000, `daemon ${i} to start`);
      } finally {
        const codes = await cluster.stop();
        expect(codes, cluster.failures.join('\n')).toEqual([0, 0, 0]);
      }
      expect(cluster.unexpectedExits(), cluster.failures.join('\n')).toEqual([0, 0, 0]);
      expect(ids).toHaveLength(ROUNDS * PER_ROUND);
      expect(kills).toHaveLength(ROUNDS);

      const journal = new Map(
        pg
          .psql('SELECT pending_id, state, raw_tx_hash FROM journal', 'ha_kill')
          .trim()
          .split('\n')
          .map((l) => l.split('|'))
          .map(([id, state, hash]) => [id!, { state: state!, hash: hash! }]),
      );
      // Exactly once, and only ever the journaled bytes. A daemon killed after Tatum accepted
      // its broadcast but before its journal recorded it leaves a signed row: the next signer
      // asks Tatum (GET /v3/kms/{id}) and records the completion instead of sending it again.
      for (const id of ids) {
        const all = api.broadcasts.filter((b) => b.signatureId === id);
        const accepted = all.filter((b) => b.txId !== undefined);
        expect(accepted.length, `accepted broadcasts of ${id}`).toBe(1);
        // Every attempt (a re-broadcast after a kill included) sent the same bytes: the journaled ones.
        expect(new Set(all.map((b) => b.txData)).size, `raw transactions of ${id}`).toBe(1);
        expect(rawTxHash(accepted[0]!.txData)).toBe(journal.get(id)?.hash);
        // 'signed' when its signer was killed after Tatum accepted it and no daemon saw it pending again.
        expect(['signed', 'broadcast'], `journal state of ${id}`).toContain(journal.get(id)?.state);
      }
      // How often that happened (a kill between Tatum's accept and the journal commit).
      const completedAtTatum = readFileSync(cluster.auditLog, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { event: string; details?: { via?: string } })
        .filter((r) => r.event === 'broadcast' && r.details?.via === 'tatum-completed').length;
      // Every raw transaction in the journal is one of the accepted ones (nothing else was signed and kept).
      expect(journal.size).toBe(ids.length);

      // On the chains: each LTC transaction confirmed, each ETH transaction mined successfully.
      await ltc.generateToAddress(1, mineTo);
      for (const b of api.broadcasts.filter((x) => x.txId !== undefined)) {
        if (b.chain === 'LTC') {
          const tx = (await ltc.rpc.call('getrawtransaction', [b.txId, true])) as { confirmations?: number };
          expect(tx.confirmations, `LTC ${b.txId}`).toBeGreaterThanOrEqual(1);
        } else {
          const receipt = (await eth.rpc.rpc.call('eth_getTransactionReceipt', [b.txId])) as {
            status: string;
          } | null;
          expect(receipt?.status, `ETH ${b.txId}`).toBe('0x1');
        }
      }

      // The three daemons' records, interleaved by 50 SIGKILLs, are one intact chain.
      const verify = await runCli(['audit', 'verify', '--store', cluster.storeUrl, '--audit-log', cluster.auditLog], {
        env: cluster.env() as Record<string, string>,
      });
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);
      const hits = kills.filter((k, i) => (kills[i + 1]?.signedBefore ?? Infinity) > k.signedBefore).length;
      console.log(
        `ha-daemons: ${ROUNDS} kills, ${hits} with broadcasts in the round after; ${api.broadcasts.length} broadcast requests for ${ids.length} ids; ${completedAtTatum} ids found completed at Tatum before a re-broadcast (recorded, not sent again)`,
      );
    }, 900_000);

    it('PostgreSQL restarted under three daemons: they stop signing, /healthz says so, they reconnect and go on, nothing lost or signed twice', async () => {
      const cluster = new HaCluster({
        pg,
        tv,
        api,
        chains: 'LTC,ETH',
        args: ['--claim-lease', '3'],
        env: { HARDKMS_CHAIN_ID_ETH: '31337' },
      });
      const extra = payloads.slice(ROUNDS * PER_ROUND);
      expect(extra).toHaveLength(RESTART_TX);
      const ids: string[] = [];
      const accepted = (): number =>
        api.broadcasts.filter((b) => b.txId !== undefined && ids.includes(b.signatureId ?? '')).length;
      const healths = () => Promise.all([0, 1, 2].map((i) => cluster.health(i)));
      try {
        await cluster.start(3);
        for (let i = 0; i < 3; i++)
          await waitUntil(() => cluster.daemons[i]!.started(), 120_000, `daemon ${i} to start`);
        await waitUntil(
          async () => (await healths()).every((h) => h.status === 200),
          60_000,
          'every /healthz to be ok',
        );
        for (const h of await healths())
          expect(h.body).toMatchObject({
            status: 'ok',
            database: { engine: 'postgres', connected: true, error: null },
            claimsHeld: 0,
          });
        for (const p of extra.slice(0, RESTART_TX / 2)) ids.push(api.queue(p));
        await waitUntil(() => accepted() >= 3, 120_000, 'the first broadcasts');
        pg.stop('fast');
        await waitUntil(
          async () =>
            (await healths()).every(
              (h) => h.status === 503 && (h.body.database as { connected: boolean }).connected === false,
            ),
          60_000,
          "every daemon's /healthz to say the database is away",
        );
        const down = await healths();
        for (const h of down) {
          expect(h.body).toMatchObject({
            status: 'unhealthy',
            sealed: false,
            database: {
              engine: 'postgres',
              connected: false,
              error: expect.stringMatching(/cannot be reached|did not answer|lost/),
            },
          });
          expect(typeof h.body.claimsHeld).toBe('number');
        }
        // A signature committed just before the stop may still be on its way out; then nothing more.
        await new Promise((r) => setTimeout(r, 1000));
        const during = accepted();
        for (const p of extra.slice(RESTART_TX / 2)) ids.push(api.queue(p));
        await new Promise((r) => setTimeout(r, 4000));
        expect(accepted(), 'broadcasts while the database was down').toBe(during);
        for (let i = 0; i < 3; i++) {
          const m = await cluster.metrics(i);
          expect(metricValue(m, 'hardkms_store_connected')).toBe(0);
          expect(metricValue(m, 'hardkms_store_unavailable_total')).toBeGreaterThan(0);
        }
        expect(cluster.daemons.every((d) => d.child.exitCode === null)).toBe(true);

        pg.start();
        await waitUntil(
          () => ids.every((id) => api.pending(id)?.txId !== undefined),
          180_000,
          'every pending transaction to be broadcast after the restart',
        );
        await waitUntil(
          async () => (await healths()).every((h) => h.status === 200),
          60_000,
          'every /healthz to be ok again',
        );
        let taken = 0;
        for (let i = 0; i < 3; i++) {
          const m = await cluster.metrics(i);
          expect(metricValue(m, 'hardkms_store_connected')).toBe(1);
          taken += metricValue(m, 'hardkms_claims_taken_total');
        }
        expect(taken).toBeGreaterThanOrEqual(ids.length - during);
      } finally {
        expect(await cluster.stop(), cluster.failures.join('\n')).toEqual([0, 0, 0]);
      }
      expect(cluster.unexpectedExits(), cluster.failures.join('\n')).toEqual([0, 0, 0]);
      const journal = new Map(
        pg
          .psql(
            `SELECT pending_id, raw_tx_hash FROM journal WHERE pending_id IN (${ids.map((i) => `'${i}'`).join(',')})`,
            'ha_kill',
          )
          .trim()
          .split('\n')
          .map((l) => l.split('|') as [string, string]),
      );
      expect(journal.size).toBe(ids.length);
      for (const id of ids) {
        const all = api.broadcasts.filter((b) => b.signatureId === id);
        const accepted = all.filter((b) => b.txId !== undefined);
        // As above: exactly once (a broadcast whose journal commit the outage stopped is found
        // completed at Tatum, not sent again), and only the journaled bytes.
        expect(accepted.length, `accepted broadcasts of ${id}`).toBe(1);
        expect(new Set(all.map((b) => b.txData)).size, `raw transactions of ${id}`).toBe(1);
        expect(rawTxHash(all[0]!.txData)).toBe(journal.get(id));
      }
      const verify = await runCli(['audit', 'verify', '--store', cluster.storeUrl, '--audit-log', cluster.auditLog], {
        env: cluster.env() as Record<string, string>,
      });
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    }, 600_000);
  },
);
