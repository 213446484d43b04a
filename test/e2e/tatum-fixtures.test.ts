/**
 * The Tatum fixture corpus (test/fixtures/tatum/, issue 11): pending transactions exactly as
 * Tatum sends them, for every chain the daemon signs, blockchain and off-chain shapes, nulls
 * and absent fields included. Every fixture is served by the Tatum-compatible HTTP server to
 * the BUILT daemon (`--runOnce`, one cycle over all chains) and what it broadcast is checked
 * here by each chain's own library, never by hardkms code: bitcoinjs-lib + noble (UTXO, BCH),
 * ethers (EVM; CIP-64 by a decoder written from the CIP-64 format with ethers' RLP), noble +
 * a protobuf reader (TRON), ripple-binary-codec/ripple-keypairs, stellar-base, algosdk,
 * thor-devkit, @solana/web3.js (SOL, submitted through the fake SOL RPC), cardano-serialization-lib (ADA, through the fake Cardano Rosetta). EVM transactions go through Hardhat (mined), LTC through litecoind -regtest
 * (mined). Refusal fixtures must reach the error batch and nothing be broadcast.
 *
 * The wallets are test/fixtures/tatum/wallets.json, a Tatum wallet.dat plaintext (§5.2):
 * they keep their signature ids, so the payloads reference them literally. LTC fixtures
 * marked `regtest` are re-pointed at real UTXOs (same scripts and amounts, new txids: the
 * bitcore `hash` recomputed here with bitcoinjs) so litecoind can mine them.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { payments, Transaction } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { SIGNABLE_CHAINS } from '../../src/signer/pipeline/chain-ids.js';
import { OFFCHAIN_BROADCAST_CHAINS, type TatumChain } from '../../src/signer/source/tatum-paths.js';
import { prepareImportedPrivateKey, storeMnemonicEntry } from '../../src/vault/tatum-wallets.js';
import type { NewWalletEntry } from '../../src/vault/entries.js';
import type { CliResult } from '../support/cli.js';
import { startHardhatNode, type HardhatNode } from '../../scripts/lib/hardhat-node.js';
import { LITECOIND_PATH, startLitecoind, type Litecoind, type LitecoinWallet } from '../../scripts/lib/litecoind.js';
import { FakeTatumApi, type ChainNode } from '../../scripts/lib/tatum-api-server.js';
import { FakeVetNode } from '../support/vet-node.js';
import { FakeSolanaRpc } from '../support/sol-rpc.js';
import { FakeEgldGateway } from '../support/egld-node.js';
import { FakeCardanoRosetta } from '../support/ada-rosetta.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { explain, runDaemon } from './support.js';
import {
  FIXTURES,
  FIXTURES_COME_WITH_THE_CHAIN,
  fixtureTests,
  fundSenders,
  HARDHAT_CHAINS,
  LTC_REGTEST,
  WALLETS,
  type BitcoreJson,
  type Fixture,
} from './tatum-fixtures.js';

describe('Tatum fixture corpus through the daemon', { timeout: 600_000 }, () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let hardhat: HardhatNode;
  let celo: HardhatNode;
  const evm = new Map<string, HardhatNode>();
  let ltc: Litecoind | undefined;
  let miner: LitecoinWallet | undefined;
  let vet: FakeVetNode;
  const sol = new FakeSolanaRpc();
  const egld = new FakeEgldGateway();
  const ada = new FakeCardanoRosetta();
  let run: CliResult;
  const served = new Map<string, Fixture['pending']>();

  /** Moves a regtest fixture's inputs onto real UTXOs of the same scripts and amounts. */
  async function repoint(f: Fixture): Promise<Fixture['pending']> {
    const st = JSON.parse(f.pending.serializedTransaction) as BitcoreJson & Record<string, unknown>;
    const pay: Record<string, number> = {};
    const addressOf = (script: string) => {
      const s = Buffer.from(script, 'hex');
      return (
        s[0] === 0x00
          ? payments.p2wpkh({ output: s, network: LTC_REGTEST })
          : payments.p2pkh({ output: s, network: LTC_REGTEST })
      ).address!;
    };
    for (const i of st.inputs)
      pay[addressOf(i.output.script)] = (pay[addressOf(i.output.script)] ?? 0) + i.output.satoshis / 1e8;
    const txid = (await miner!.rpc.call('sendmany', ['', pay])) as string;
    const funding = (await ltc!.getRawTransaction(txid)) as { vout: { n: number; scriptPubKey: { hex: string } }[] };
    const moved = new Map<string, { txid: string; vout: number }>();
    for (const i of st.inputs) {
      const vout = funding.vout.find((o) => o.scriptPubKey.hex === i.output.script)!.n;
      moved.set(`${i.prevTxId}:${i.outputIndex}`, { txid, vout });
      i.prevTxId = txid;
      i.outputIndex = vout;
    }
    const tx = new Transaction();
    tx.version = 2;
    for (const i of st.inputs) tx.addInput(Buffer.from(i.prevTxId, 'hex').reverse(), i.outputIndex, 0xffffffff);
    for (const o of st.outputs) tx.addOutput(Buffer.from(o.script, 'hex'), BigInt(o.satoshis));
    st.hash = tx.getId();
    const pending: Fixture['pending'] = { ...structuredClone(f.pending), serializedTransaction: JSON.stringify(st) };
    const wr = pending.withdrawalResponses as { vIn: string; vInIndex: number | null }[] | undefined;
    for (const w of wr ?? []) {
      const m = moved.get(`${w.vIn}:${w.vInIndex}`);
      if (m !== undefined) [w.vIn, w.vInIndex] = [m.txid, m.vout];
    }
    return pending;
  }

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const rows: NewWalletEntry[] = [];
    for (const [id, w] of Object.entries(WALLETS)) {
      if (w.mnemonic !== undefined)
        storeMnemonicEntry(tv.vault, chainKit(w.chain), w.testnet, Buffer.from(w.mnemonic, 'utf8'), id);
      else
        rows.push(prepareImportedPrivateKey(tv.vault, chainKit(w.chain), w.testnet, (w.privateKey ?? w.secret)!, id));
    }
    tv.vault.store.addEntries(rows);
    tv.vault.seal('test setup');

    hardhat = await startHardhatNode();
    // A second EVM with Alfajores' chain id for CELO (pinned, no override): Tatum's CELO node
    // endpoint fills from it and plain CELO transactions are mined there.
    celo = await startHardhatNode({ chainId: 44787 });
    vet = await FakeVetNode.start();
    const nodes: Partial<Record<TatumChain, ChainNode>> = { CELO: { kind: 'evm', url: celo.url } };
    for (const c of HARDHAT_CHAINS) nodes[c] = { kind: 'evm', url: hardhat.url };
    for (const c of HARDHAT_CHAINS) evm.set(c, hardhat);
    evm.set('CELO', celo);
    if (existsSync(LITECOIND_PATH)) {
      ltc = await startLitecoind();
      miner = await ltc.createWallet('miner');
      await ltc.generateToAddress(101, await miner.getNewAddress('bech32'));
      nodes.LTC = { kind: 'utxo', url: ltc.url };
    }
    // CIP-64 (type 0x7b) cannot be mined on Hardhat: those are recorded only, and verified here.
    api = await FakeTatumApi.start({
      nodes,
      ethFee: { slow: 10e9, medium: 20e9, fast: 30e9 },
      forward: (c, tx) => !(c === 'CELO' && tx.startsWith('0x7b')),
      solana: sol,
      egld,
      ada,
    });

    // Every EVM sender of a Hardhat fixture gets 1 ETH (or CELO); regtest inputs get real UTXOs.
    await fundSenders(FIXTURES, evm);
    for (const f of FIXTURES)
      served.set(f.name, f.regtest === true && ltc !== undefined ? await repoint(f) : f.pending);
    if (ltc !== undefined) await ltc.generateToAddress(1, await miner!.getNewAddress('bech32'));
    for (const p of served.values()) api.queue(p);

    const chains = [...new Set(FIXTURES.map((f) => f.pending.chain))];
    const env: Record<string, string> = { HARDKMS_RPC_VET: vet.url };
    for (const c of HARDHAT_CHAINS) env[`HARDKMS_CHAIN_ID_${c}`] = String(hardhat.chainId);
    // --runOnce --wallets: every wallet id for every chain (§1 step 3), so a transaction naming
    // a wallet of another chain (a top-level index on a cross-chain mnemonic) is fetched too.
    // The operator's policy: TRON deploys and TRC-10 issuance allowed, a fee_limit of up to
    // 1,000 TRX (Tatum's deploy builders ask for that much; the built-in limit is 200).
    const policy = join(dirname(tv.path), 'policy.json');
    writeFileSync(policy, JSON.stringify({ chains: { TRON: { allowDeploy: true, maxFee: '1000' } } }));
    run = await runDaemon(
      tv,
      api,
      [
        '--runOnce',
        '--testnet',
        '--chain',
        chains.join(','),
        '--wallets',
        Object.keys(WALLETS).join(','),
        '--policy',
        policy,
      ],
      env,
    );
    if (ltc !== undefined) await ltc.generateToAddress(1, await miner!.getNewAddress('bech32'));
  }, 600_000);

  afterAll(async () => {
    await api?.stop();
    await hardhat?.stop();
    await celo?.stop();
    await ltc?.stop();
    await vet?.stop();
  });

  it('covers every chain the daemon signs, with an off-chain shape for each chain Tatum broadcasts through the withdrawal endpoint', () => {
    const chains = new Set(FIXTURES.filter((f) => f.expect.kind !== 'error').map((f) => f.pending.chain));
    for (const c of SIGNABLE_CHAINS)
      if (!FIXTURES_COME_WITH_THE_CHAIN.has(c)) expect(chains, `a fixture for ${c}`).toContain(c);
    const offchain = new Set(
      FIXTURES.filter((f) => f.pending.withdrawalId != null && f.expect.kind !== 'error').map((f) => f.pending.chain),
    );
    for (const c of OFFCHAIN_BROADCAST_CHAINS)
      if ((SIGNABLE_CHAINS as readonly string[]).includes(c))
        expect(offchain, `an off-chain fixture for ${c}`).toContain(c);
    // The shapes the issue names, present in the corpus.
    const all = FIXTURES.map((f) => f.pending);
    const remainder = all.some((p) =>
      (p.withdrawalResponses as unknown[] | undefined)?.some(
        (w) => JSON.stringify(w).includes('"address":null,') && JSON.stringify(w).includes('"vInIndex":null'),
      ),
    );
    expect(remainder).toBe(true);
    expect(all.some((p) => p.chain === 'CELO' && p.serializedTransaction.includes('feeCurrency'))).toBe(true);
    expect(all.some((p) => p.chain === 'TRON' && p.serializedTransaction.includes('FreezeBalanceV2Contract'))).toBe(
      true,
    );
    expect(all.some((p) => p.chain === 'TRON' && p.serializedTransaction.includes('CreateSmartContract'))).toBe(true);
    expect(
      FIXTURES.some((f) => f.expect.kind === 'evm' && !/"nonce"|"gas"/.test(f.pending.serializedTransaction)),
    ).toBe(true);
  });

  it('the cycle reported exactly the refusal fixtures through the error batch', () => {
    const refused = FIXTURES.filter((f) => f.expect.kind === 'error').map((f) => f.pending.id);
    expect(new Set(api.errorReports.map((e) => e.signatureId)), explain(run)).toEqual(new Set(refused));
    expect(run.code).not.toBe(0); // refusals make the cycle's exit code say so
  });

  fixtureTests(FIXTURES, () => ({ api, served, evm, ltc, sol, log: run.stderr }));
});
