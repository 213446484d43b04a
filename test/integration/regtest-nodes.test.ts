/**
 * The end-to-end test infrastructure itself: a real litecoind -regtest and a real Hardhat
 * node start, mine and move funds, the test ERC-20 deploys and transfers, and the fake
 * Tatum API forwards broadcasts to them. The daemon's e2e tests build on exactly this.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transaction as EthTransaction, Wallet } from 'ethers';
import { EvmRpc } from '../../src/signer/sinks/node-rpc.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import { LITECOIND_PATH, startLitecoind, type Litecoind, type LitecoinWallet } from '../../scripts/lib/litecoind.js';
import {
  deployTestToken,
  erc20TransferData,
  HARDHAT_CHAIN_ID,
  startHardhatNode,
  TEST_TOKEN_BYTECODE,
  TEST_TOKEN_SOLC_SETTINGS,
  TEST_TOKEN_SOURCE,
  tokenBalance,
  type HardhatNode,
} from '../../scripts/lib/hardhat-node.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';

const WALLET_ID = 'e3015fc0-2112-4c8a-b8bf-353b86f63ba5';

describe.skipIf(!existsSync(LITECOIND_PATH))('litecoind -regtest', () => {
  let node: Litecoind;
  let miner: LitecoinWallet;
  let api: FakeTatumApi;
  let client: TatumClient;

  beforeAll(async () => {
    node = await startLitecoind();
    api = await FakeTatumApi.start({ nodes: { LTC: { kind: 'utxo', url: node.url } } });
    client = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'test', timeoutMs: 30_000 });
  });
  afterAll(async () => {
    client?.close();
    await api?.stop();
    await node?.stop();
  });

  it('starts on loopback in regtest with txindex', async () => {
    const info = (await node.rpc.call('getblockchaininfo')) as { chain: string };
    expect(info.chain).toBe('regtest');
    const net = (await node.rpc.call('getnetworkinfo')) as { localaddresses: unknown[]; connections: number };
    expect(net.connections).toBe(0);
    const idx = (await node.rpc.call('getindexinfo')) as Record<string, { synced: boolean }>;
    expect(idx.txindex).toBeDefined();
  });

  it('mines spendable coins and funds P2PKH, P2SH-P2WPKH and P2WPKH addresses', async () => {
    miner = await node.createWallet('miner');
    const mineTo = await miner.getNewAddress('bech32');
    await node.generateToAddress(101, mineTo);
    expect(await miner.getBalance()).toBeGreaterThan(0);

    const receiver = await node.createWallet('receiver');
    for (const type of ['legacy', 'p2sh-segwit', 'bech32'] as const) {
      const addr = await receiver.getNewAddress(type);
      const txid = await miner.sendToAddress(addr, 1.25);
      expect(await node.getMempool()).toContain(txid);
      await node.generateToAddress(1, mineTo);
      const tx = await node.getRawTransaction(txid);
      expect(tx.confirmations).toBe(1);
      const utxos = await receiver.listUnspent([addr], 1);
      expect(utxos).toHaveLength(1);
      expect(utxos[0]?.amount).toBe(1.25);
      const out = await node.getTxOut(txid, utxos[0]?.vout ?? -1);
      expect(out?.value).toBe(1.25);
    }
  });

  it('accepts a raw transaction broadcast through the fake Tatum API, which completes the pending tx', async () => {
    const id = api.queue({ chain: 'LTC', serializedTransaction: '{}', hashes: [WALLET_ID] });
    const to = await miner.getNewAddress('bech32');
    const funded = (await miner.rpc.call('fundrawtransaction', [
      await miner.rpc.call('createrawtransaction', [[], { [to]: 0.5 }]),
    ])) as { hex: string };
    const signed = (await miner.rpc.call('signrawtransactionwithwallet', [funded.hex])) as {
      hex: string;
      complete: boolean;
    };
    expect(signed.complete).toBe(true);

    const { txId } = await client.broadcast('LTC', signed.hex, id);
    expect(await node.getMempool()).toContain(txId);
    expect(api.pending(id)?.txId).toBe(txId);
    // A re-send of the same raw tx (as after a crash) is answered with the same txId.
    expect((await client.broadcast('LTC', signed.hex, id)).txId).toBe(txId);
    await node.generateToAddress(1, to);
    expect((await node.getRawTransaction(txId!)).confirmations).toBe(1);
  });

  it('turns a node rejection into a Tatum-style 403', async () => {
    const id = api.queue({ chain: 'LTC', serializedTransaction: '{}', hashes: [WALLET_ID] });
    const err = await client.broadcast('LTC', '0200000000000000000000', id).catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(403);
    expect(api.broadcasts.at(-1)?.error).toBeDefined();
    expect(api.pendingIds()).toContain(id);
  });
});

describe('hardhat node', () => {
  let node: HardhatNode;
  let api: FakeTatumApi;
  let client: TatumClient;
  let token: string;

  beforeAll(async () => {
    node = await startHardhatNode();
    api = await FakeTatumApi.start({ nodes: { ETH: { kind: 'evm', url: node.url } } });
    client = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'test', timeoutMs: 30_000 });
  });
  afterAll(async () => {
    client?.close();
    await api?.stop();
    await node?.stop();
  });

  it('runs chain 31337 with funded well-known accounts', async () => {
    expect(await node.rpc.chainId()).toBe(BigInt(HARDHAT_CHAIN_ID));
    const accounts = await node.rpc.accounts();
    expect(accounts.map((a) => a.toLowerCase())).toContain(node.accounts[0]?.address.toLowerCase());
    expect(await node.rpc.getBalance(node.accounts[1]?.address ?? '')).toBe(10_000n * 10n ** 18n);
  });

  it('the shipped token bytecode is the compilation of the shipped source', async () => {
    const require = createRequire(import.meta.url);
    const solc = require('solc') as { compile(input: string): string };
    const out = JSON.parse(
      solc.compile(
        JSON.stringify({
          language: 'Solidity',
          sources: { 'TestToken.sol': { content: TEST_TOKEN_SOURCE } },
          settings: { ...TEST_TOKEN_SOLC_SETTINGS, outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
        }),
      ),
    ) as { contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>> };
    expect('0x' + out.contracts['TestToken.sol']?.TestToken?.evm.bytecode.object).toBe(TEST_TOKEN_BYTECODE);
  });

  it('deploys the test ERC-20 with the whole supply on the deployer', async () => {
    const contract = await deployTestToken(node, 0, 10n ** 24n);
    token = await contract.getAddress();
    expect(await contract.getFunction('symbol')()).toBe('HKT');
    expect(await tokenBalance(node, token, node.accounts[0]?.address ?? '')).toBe(10n ** 24n);
  });

  it('mines an ERC-20 transfer (legacy, EIP-155) signed offline and broadcast through the fake Tatum API', async () => {
    const from = new Wallet(node.accounts[0]?.privateKey ?? '');
    const to = Wallet.createRandom().address;
    const rpc = new EvmRpc({ url: node.url });
    try {
      const data = erc20TransferData(to, 12_345n);
      const nonce = await rpc.getTransactionCount(from.address, 'pending');
      const gas = await rpc.estimateGas({ from: from.address, to: token, data });
      const gasPrice = await rpc.gasPrice();
      const raw = await from.signTransaction({
        type: 0,
        chainId: HARDHAT_CHAIN_ID,
        nonce: Number(nonce),
        to: token,
        data,
        gasLimit: gas,
        gasPrice,
        value: 0n,
      });
      expect(EthTransaction.from(raw).chainId).toBe(BigInt(HARDHAT_CHAIN_ID));

      const id = api.queue({ chain: 'ETH', serializedTransaction: '{}', hashes: [WALLET_ID] });
      const { txId } = await client.broadcast('ETH', raw, id);
      const receipt = await rpc.getTransactionReceipt(txId!);
      expect(receipt?.status).toBe(1);
      expect(await tokenBalance(node, token, to)).toBe(12_345n);
    } finally {
      rpc.close();
    }
  });

  it('mines an EIP-1559 ETH transfer from a hardhat account', async () => {
    const from = new Wallet(node.accounts[2]?.privateKey ?? '');
    const to = Wallet.createRandom().address;
    const baseFee = await node.rpc.latestBaseFee();
    expect(baseFee).toBeDefined();
    const tip = await node.rpc.maxPriorityFeePerGas();
    const raw = await from.signTransaction({
      type: 2,
      chainId: HARDHAT_CHAIN_ID,
      nonce: Number(await node.rpc.getTransactionCount(from.address)),
      to,
      value: 10n ** 15n,
      gasLimit: 21_000n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: (baseFee ?? 0n) * 2n + tip,
    });
    const hash = await node.rpc.sendRawTransaction(raw);
    expect((await node.rpc.getTransactionReceipt(hash))?.status).toBe(1);
    expect(await node.rpc.getBalance(to)).toBe(10n ** 15n);
  });
});
