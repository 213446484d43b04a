/**
 * What an EVM node answers is read through schemas (sinks/node-rpc.ts): a block or receipt of
 * the wrong shape is RPC_BAD_RESPONSE naming the field and the kind of value, never the value
 * (a node's text is not repeated into the daemon log or Tatum's error batch). Real HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvmRpc } from '../../../src/signer/sinks/node-rpc.js';
import { rejectionOf } from '../../support/rejection.js';

const PLANTED = 'planted-text-d3adb33f';
const HASH = `0x${'ab'.repeat(32)}`;
let answers: Record<string, unknown> = {};
let server: http.Server;
let rpc: EvmRpc;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { id: number; method: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: answers[body.method] ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rpc = new EvmRpc({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
});
afterAll(() => {
  rpc.close();
  server.close();
});

const refusal = (p: Promise<unknown>) => rejectionOf(p, 'd3adb33f');

describe('EVM node answers', () => {
  it('the latest base fee: a quantity, null/absent before London, anything else refused by field', async () => {
    answers = { eth_getBlockByNumber: { number: '0x10', baseFeePerGas: '0x3b9aca00' } };
    expect(await rpc.latestBaseFee()).toBe(1_000_000_000n);
    answers = { eth_getBlockByNumber: { number: '0x10' } };
    expect(await rpc.latestBaseFee()).toBeUndefined();
    answers = { eth_getBlockByNumber: null };
    expect(await rpc.latestBaseFee()).toBeUndefined();
    answers = { eth_getBlockByNumber: { baseFeePerGas: PLANTED } };
    expect(await refusal(rpc.latestBaseFee())).toMatchObject({
      code: 'RPC_BAD_RESPONSE',
      message: expect.stringMatching(/latest block: unexpected result \(baseFeePerGas: expected a 0x-hex quantity/),
    });
    answers = { eth_getBlockByNumber: [PLANTED] };
    expect((await refusal(rpc.latestBaseFee())).code).toBe('RPC_BAD_RESPONSE');
  });

  it('a receipt: null while not mined; its hash, block, status and gas checked; a bad one named by field', async () => {
    const receipt = { transactionHash: HASH, blockNumber: '0x5', status: '0x1', gasUsed: '0x5208', logs: [] };
    answers = { eth_getTransactionReceipt: receipt };
    expect(await rpc.getTransactionReceipt(HASH)).toMatchObject({
      transactionHash: HASH,
      blockNumber: 5n,
      status: 1,
      gasUsed: 21_000n,
      contractAddress: null,
    });
    answers = { eth_getTransactionReceipt: null };
    expect(await rpc.getTransactionReceipt(HASH)).toBeNull();
    answers = { eth_getTransactionReceipt: { ...receipt, transactionHash: { text: PLANTED } } };
    expect(await refusal(rpc.getTransactionReceipt(HASH))).toMatchObject({
      code: 'RPC_BAD_RESPONSE',
      message: expect.stringMatching(/receipt: unexpected result \(transactionHash: expected a 32-byte 0x-hex hash/),
    });
    answers = { eth_getTransactionReceipt: { ...receipt, status: PLANTED } };
    expect((await refusal(rpc.getTransactionReceipt(HASH))).message).toMatch(/status: expected a 0x-hex quantity/);
  });
});
