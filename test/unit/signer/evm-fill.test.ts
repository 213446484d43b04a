/**
 * The EVM fill rules (evm-fill.ts): own node first, else Tatum; Tatum's per-chain rules;
 * nonce 0 kept; ETH withdrawals re-estimated; the source's chain id checked against the pin.
 * The Tatum source runs over real HTTP against a stand-in of Tatum's endpoints (the web3
 * proxy answers fixed JSON-RPC results, since no node of these chains runs here).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvmPayload } from '../../../src/chains/evm/payload.js';
import { NodeEvmFiller, tatumFillSource, type EvmFillSource } from '../../../src/signer/pipeline/evm-fill.js';
import { EvmRpc } from '../../../src/signer/sinks/node-rpc.js';
import { rejectionOf } from '../../support/rejection.js';

const GWEI = 1_000_000_000n;
const FROM = '0x9858EfFD232B4033E47d90003D41EC34EcaEda94';
const TO = '0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0';
const KEY = 'k-123/secret';

interface Seen {
  path: string;
  method?: string;
  params?: unknown[];
}

let server: http.Server;
let base = '';
const seen: Seen[] = [];
let chainIdAnswer = '0x1';
let feeAnswer: unknown = { slow: 1e9, medium: '4000000000', fast: 9e9 };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const body =
        chunks.length === 0
          ? undefined
          : (JSON.parse(Buffer.concat(chunks).toString()) as { id: number; method: string; params: unknown[] });
      seen.push({ path, ...(body === undefined ? {} : { method: body.method, params: body.params }) });
      const results: Record<string, string> = {
        eth_chainId: chainIdAnswer,
        eth_estimateGas: '0x5208',
        eth_gasPrice: '0x' + (7n * GWEI).toString(16),
        eth_getTransactionCount: '0x9',
      };
      res.setHeader('content-type', 'application/json');
      if (body !== undefined)
        return res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: results[body.method] }));
      if (req.headers['x-api-key'] !== KEY) return res.writeHead(401).end('{}');
      if (path.startsWith('/v3/ethereum/transaction/count/') || path.startsWith('/v3/bsc/transaction/count/'))
        return res.end('12');
      if (path === '/v3/blockchain/fee/ETH') return res.end(JSON.stringify(feeAnswer));
      res.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const pins: Record<string, bigint> = { ETH: 1n, BSC: 1n, KCS: 1n, CELO: 1n, MATIC: 1n };
const viaTatum = () =>
  new NodeEvmFiller(
    (c) => pins[c]!,
    new Map(),
    (c) => tatumFillSource(c, { baseUrl: base, apiKey: KEY }),
  );
const payload = (o: Record<string, unknown>) => JSON.stringify({ from: 0, to: TO, value: '1', ...o });

describe('EVM fill through the Tatum API (§3.5, §2.10)', () => {
  it('ETH: nonce from transaction/count, gas from eth_estimateGas, gas price from fee/ETH .medium; the key only in the web3 path', async () => {
    seen.length = 0;
    expect(await viaTatum().fill('ETH', payload({ gasPrice: '0' }), FROM)).toEqual({
      nonce: 12n,
      gasLimit: 21_000n,
      gasPrice: 4n * GWEI,
    });
    expect(seen.map((s) => s.method ?? s.path)).toEqual(
      expect.arrayContaining([
        'eth_chainId',
        'eth_estimateGas',
        `/v3/ethereum/transaction/count/${FROM}`,
        '/v3/blockchain/fee/ETH',
      ]),
    );
    expect(seen.filter((s) => s.method !== undefined).every((s) => s.path === `/v3/ethereum/web3/${KEY}`)).toBe(true);
  });

  it('an answer that is not what Tatum or the node sends is refused naming its kind, never repeating it', async () => {
    const planted = 'd3adb33f-planted-answer';
    const refusal = () => rejectionOf(viaTatum().fill('ETH', payload({ gasPrice: '0' }), FROM), 'd3adb33f');
    try {
      feeAnswer = { medium: planted };
      expect(await refusal()).toMatchObject({
        code: 'TATUM_BAD_RESPONSE',
        message: expect.stringMatching(/\.medium: expected a non-negative number, got a string of 23 characters/),
      });
      feeAnswer = { slow: 1e9, medium: '4000000000', fast: 9e9 };
      chainIdAnswer = planted;
      expect((await refusal()).message).toMatch(
        /eth_chainId: unexpected result \(expected a 0x-hex quantity, got a string of 23 characters\)/,
      );
    } finally {
      feeAnswer = { slow: 1e9, medium: '4000000000', fast: 9e9 };
      chainIdAnswer = '0x1';
    }
  });

  it('nonce 0 stays 0 (Tatum would refetch it) and given values are not replaced', async () => {
    expect(await viaTatum().fill('ETH', payload({ nonce: 0, gas: 30000, gasPrice: '5' }), FROM)).toEqual({});
  });

  it('ETH off-chain withdrawals always re-estimate the gas limit, as Tatum does', async () => {
    const fill = await viaTatum().fill('ETH', payload({ nonce: 3, gas: 1, gasPrice: '5' }), FROM, { withdrawal: true });
    expect(fill).toEqual({ gasLimitOverride: 21_000n });
    expect(
      parseEvmPayload(payload({ nonce: 3, gas: 1, gasPrice: '5' }), { chain: 'ETH', chainId: 1n, fill }).gasLimit,
    ).toBe(21_000n);
  });

  it("Tatum's per-chain rules: BSC 10 gwei and its count endpoint, KCS 1 gwei, CELO estimate + 100 000, MATIC eth_gasPrice", async () => {
    expect(await viaTatum().fill('BSC', payload({}), FROM)).toEqual({
      nonce: 12n,
      gasLimit: 21_000n,
      gasPrice: 10n * GWEI,
    });
    expect(await viaTatum().fill('KCS', payload({}), FROM)).toEqual({ nonce: 9n, gasLimit: 21_000n, gasPrice: GWEI });
    expect((await viaTatum().fill('CELO', payload({ gasPrice: '1' }), FROM)).gasLimit).toBe(121_000n);
    expect((await viaTatum().fill('MATIC', payload({ nonce: 1, gas: 21000 }), FROM)).gasPrice).toBe(7n * GWEI);
    expect(seen.some((s) => s.path === `/v3/blockchain/node/CELO/${KEY}`)).toBe(true);
  });

  it('an own node wins over Tatum: nothing is asked of Tatum when HARDKMS_RPC_<CHAIN> is set', async () => {
    seen.length = 0;
    const asked: string[] = [];
    const own = new EvmRpc({ url: `${base}/own-node` });
    const tatum = (c: string): EvmFillSource | undefined => {
      asked.push(c);
      return tatumFillSource(c, { baseUrl: base, apiKey: KEY });
    };
    const fill = await new NodeEvmFiller((c) => pins[c]!, new Map([['ETH', own]]), tatum).fill(
      'ETH',
      payload({}),
      FROM,
    );
    own.close();
    expect(fill).toEqual({ nonce: 9n, gasLimit: 21_000n, gasPrice: 7n * GWEI });
    expect(asked).toEqual([]);
    expect(seen.every((s) => s.path === '/own-node')).toBe(true);
  });

  it('refuses a Tatum proxy of another network (eth_chainId ≠ pin), and errors never show the key', async () => {
    chainIdAnswer = '0x38';
    try {
      const e = await viaTatum()
        .fill('ETH', payload({}), FROM)
        .catch((x: unknown) => x as Error);
      expect(e).toMatchObject({ code: 'DAEMON_NODE_WRONG_CHAIN' });
      expect((e as Error).message).toMatch(/chain id 56, but ETH is pinned to 1/);
      expect((e as Error).message).not.toContain(KEY);
    } finally {
      chainIdAnswer = '0x1';
    }
  });

  it('a chain Tatum has no proxy for and no own node: a clear error naming HARDKMS_RPC_<CHAIN>', async () => {
    const f = new NodeEvmFiller(
      () => 1n,
      new Map(),
      () => undefined,
    );
    await expect(f.fill('ETH', payload({}), FROM)).rejects.toMatchObject({
      code: 'TX_PAYLOAD_INCOMPLETE',
      message: expect.stringContaining('HARDKMS_RPC_ETH'),
    });
  });
});

describe('numbers as web3 reads them (§3.5)', () => {
  const parse = (o: Record<string, unknown>) =>
    parseEvmPayload(JSON.stringify({ to: TO, ...o }), { chain: 'ETH', chainId: 1n });
  it('"0x" is 0, "" is not given (filled like absent), leading zeros are decimal', () => {
    expect(parse({ value: '0x', nonce: '0x', gas: '021000', gasPrice: '' })).toMatchObject({
      value: 0n,
      nonce: 0,
      gasLimit: 21_000n,
    });
    expect(parse({ value: '', gasPrice: '' }).gasPrice).toBeUndefined();
    expect(parse({ value: '0010' }).value).toBe(10n);
    expect(() => parse({ value: '-1' })).toThrow(/value/);
    expect(() => parse({ value: '1e18' })).toThrow(/value/);
  });
});
