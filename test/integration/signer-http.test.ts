/**
 * The daemon's HTTP side against real local servers: the Tatum client vs the fake Tatum
 * API, the four-eyes approver, the node JSON-RPC client, the HTTP transport itself, plus
 * the pure pieces that guard the boundary (pending-tx validation with a fuzz test, backoff).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { APPROVAL_HEADER, approvalProof, ExternalApprover } from '../../src/signer/pipeline/approval.js';
import {
  BROADCAST_PATHS,
  isTatumChain,
  MAX_SIGNATURE_IDS,
  TATUM_CHAINS,
  usesOffchainBroadcast,
} from '../../src/signer/source/tatum-paths.js';
import { HttpClient, HttpError } from '../../src/signer/http.js';
import { isTransientHttpError } from '../../src/signer/http-testing.js';
import { isAlreadyKnownError, JsonRpcClient, nodeRpcUrlFromEnv, RpcError } from '../../src/signer/sinks/node-rpc.js';
import { PENDING_ID_PATTERN, validatePending, validatePendingList } from '../../src/signer/source/pending.js';
import { Backoff, backoffDelay } from '../../src/signer/backoff.js';
import { errorReportText } from '../../src/signer/observe/error-report.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import { FakeApprover, FakeTatumApi, newPendingId } from '../../scripts/lib/tatum-api-server.js';
import { HardkmsError } from '../../src/errors.js';

const API_KEY = 'secret-api-key-0123456789';
const WALLET_A = 'e3015fc0-2112-4c8a-b8bf-353b86f63ba5';
const WALLET_B = '11115fc0-2112-4c8a-b8bf-353b86f63111';

function ethPending(overrides: Record<string, unknown> = {}) {
  return {
    chain: 'ETH' as const,
    serializedTransaction: JSON.stringify({
      to: '0x' + '11'.repeat(20),
      value: '1000',
      gasPrice: '20000000000',
      nonce: 0,
    }),
    hashes: [WALLET_A],
    index: 3,
    ...overrides,
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HardkmsError) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------------------------------

describe('TatumClient against the fake Tatum API', () => {
  let api: FakeTatumApi;
  let client: TatumClient;

  beforeEach(async () => {
    api = await FakeTatumApi.start({ apiKey: API_KEY, latestVersionHeader: '9.9.9;WARN;Please update' });
    client = new TatumClient({ baseUrl: api.url + '/', apiKey: API_KEY, clientVersion: '0.1.0', timeoutMs: 400 });
  });
  afterEach(async () => {
    client.close();
    await api.stop();
  });

  it('polls pending transactions with the §2.1 headers and the {signatureIds} body', async () => {
    const id = api.queue(ethPending());
    api.queue(ethPending({ hashes: ['99995fc0-2112-4c8a-b8bf-353b86f69999'] })); // not ours
    api.queue({ ...ethPending(), chain: 'BSC' }); // other chain

    const got = await client.getPending('ETH', [WALLET_A, WALLET_B]);

    expect(got.transactions.map((t) => t.id)).toEqual([id]);
    expect(got.transactions[0]).toMatchObject({ chain: 'ETH', hashes: [WALLET_A], index: 3 });
    expect(got.malformed).toEqual([]);
    expect(got.latestVersionAdvice).toBe('9.9.9;WARN;Please update');
    const [req] = api.requestsTo('/v3/kms/pending/ETH');
    expect(req?.method).toBe('POST');
    expect(req?.headers['x-api-key']).toBe(API_KEY);
    expect(req?.headers['x-ttm-kms-client-version']).toBe('0.1.0');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.json).toEqual({ signatureIds: [WALLET_A, WALLET_B] });
  });

  it('still sends an empty id list, as Tatum KMS does', async () => {
    expect((await client.getPending('LTC', [])).transactions).toEqual([]);
    expect(api.requestsTo('/v3/kms/pending/LTC')[0]?.json).toEqual({ signatureIds: [] });
  });

  it('refuses more than 25,000 ids without sending a request, and sends exactly 25,000', async () => {
    const ids = Array.from({ length: MAX_SIGNATURE_IDS + 1 }, (_, i) => `id-${i}`);
    expect(await codeOf(client.getPending('ETH', ids))).toBe('TATUM_TOO_MANY_SIGNATURE_IDS');
    expect(api.requests).toHaveLength(0);
    // A 25,000-id body takes longer than the suite client's 400 ms (kept short for the hang test) on a loaded machine.
    const patient = new TatumClient({ baseUrl: api.url, apiKey: API_KEY, clientVersion: '0.1.0', timeoutMs: 30_000 });
    try {
      await patient.getPending('ETH', ids.slice(0, MAX_SIGNATURE_IDS));
    } finally {
      patient.close();
    }
    expect(api.requests).toHaveLength(1);
  });

  it('answers a wrong API key with HTTP 401, and the error does not contain the key', async () => {
    const bad = new TatumClient({
      baseUrl: api.url,
      apiKey: 'wrong-key-abcdef',
      clientVersion: '0.1.0',
      timeoutMs: 400,
    });
    try {
      const err = await bad.getPending('ETH', [WALLET_A]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(401);
      expect(isTransientHttpError(err)).toBe(false);
      expect(
        JSON.stringify({ m: (err as Error).message, h: (err as HttpError).hint, b: (err as HttpError).bodyText }),
      ).not.toContain('wrong-key');
    } finally {
      bad.close();
    }
  });

  it('turns 500, garbage, a non-array, a hang and a reset into typed errors, and loses nothing', async () => {
    const id = api.queue(ethPending());
    api.failNext({ kind: 'status', status: 500 }, 1, { path: '/v3/kms/pending/ETH' });
    api.failNext({ kind: 'garbage' }, 1, { path: '/v3/kms/pending/ETH' });
    api.failNext({ kind: 'json', body: { transactions: [] } }, 1, { path: '/v3/kms/pending/ETH' });
    api.failNext({ kind: 'hang' }, 1, { path: '/v3/kms/pending/ETH' });
    api.failNext({ kind: 'reset' }, 1, { path: '/v3/kms/pending/ETH' });

    const e500 = await client.getPending('ETH', [WALLET_A]).catch((e: unknown) => e);
    expect((e500 as HttpError).code).toBe('HTTP_STATUS');
    expect((e500 as HttpError).status).toBe(500);
    expect(isTransientHttpError(e500)).toBe(true);
    expect(await codeOf(client.getPending('ETH', [WALLET_A]))).toBe('TATUM_BAD_RESPONSE');
    expect(await codeOf(client.getPending('ETH', [WALLET_A]))).toBe('TATUM_BAD_RESPONSE');
    const hang = await client.getPending('ETH', [WALLET_A]).catch((e: unknown) => e);
    expect((hang as HttpError).code).toBe('HTTP_TIMEOUT');
    expect(isTransientHttpError(hang)).toBe(true);
    expect(await codeOf(client.getPending('ETH', [WALLET_A]))).toBe('HTTP_NETWORK');

    // The API recovered: the same transaction is handed out, once.
    const ok = await client.getPending('ETH', [WALLET_A]);
    expect(ok.transactions.map((t) => t.id)).toEqual([id]);
  });

  it('returns good entries and lists malformed ones (with their id when usable) and duplicates', async () => {
    const good = api.queue(ethPending());
    const badId = newPendingId();
    api.queueRaw('ETH', { ...ethPending(), id: badId, hashes: 'not-an-array' });
    api.queueRaw('ETH', { ...ethPending(), id: '../../admin' });
    api.queueRaw('ETH', 42);
    api.queueRaw('ETH', { ...ethPending(), id: good }); // duplicate of the good one
    api.queueRaw('ETH', { ...ethPending(), id: newPendingId(), chain: 'BTC' }); // wrong chain

    const got = await client.getPending('ETH', [WALLET_A]);
    expect(got.transactions.map((t) => t.id)).toEqual([good]);
    expect(got.raws[0]).toMatchObject({ id: good, chain: 'ETH' });
    expect(got.malformed).toHaveLength(5);
    expect(got.malformed[0]).toMatchObject({ position: 1, id: badId });
    expect(got.malformed[0]?.reason).toContain('hashes');
    expect(got.malformed[1]?.id).toBeUndefined();
    expect(got.malformed[1]?.reason).toContain('id');
    expect(got.malformed[2]?.reason).toContain('expected an object');
    expect(got.malformed[3]?.reason).toContain('more than once');
    expect(got.malformed[4]?.reason).toContain('polling ETH');
  });

  it('broadcasts to the §2.4 path of the chain with {txData, signatureId}; the pending tx completes', async () => {
    const id = api.queue(ethPending());
    const raw = '0x02f86b0180843b9aca00850ba43b740082520894' + '11'.repeat(20) + '8080c0';
    const res = await client.broadcast('ETH', raw, id);
    expect(res.txId).toMatch(/^0x[0-9a-f]{64}$/);
    const [req] = api.requestsTo(BROADCAST_PATHS.ETH);
    expect(req?.json).toEqual({ txData: raw, signatureId: id });
    expect(req?.headers['x-api-key']).toBe(API_KEY);
    expect(api.pendingIds()).toEqual([]);
    expect((await client.getPending('ETH', [WALLET_A])).transactions).toEqual([]);
    expect((await client.getTransaction(id)).txId).toBe(res.txId);

    // Re-sending the same raw tx (after a crash) yields the same txId; a different one is refused.
    expect((await client.broadcast('ETH', raw, id)).txId).toBe(res.txId);
    const err = await client.broadcast('ETH', raw + '00', id).catch((e: unknown) => e);
    expect((err as HttpError).status).toBe(403);
    expect((err as HttpError).bodyText).toContain('kms.already.completed');
  });

  it('uses the right path for every chain', async () => {
    for (const chain of TATUM_CHAINS) {
      const id = api.queue({ chain, serializedTransaction: 'x', hashes: [WALLET_A] });
      await client.broadcast(chain, 'deadbeef', id);
      expect(api.requests.at(-1)?.path).toBe(BROADCAST_PATHS[chain]);
    }
    expect(new Set(Object.values(BROADCAST_PATHS)).size).toBe(TATUM_CHAINS.length);
  });

  it('broadcasts off-chain withdrawals per §2.5 and refuses chains that do not use it', async () => {
    const id = api.queue({ chain: 'LTC', serializedTransaction: '{}', hashes: [WALLET_A], withdrawalId: 'w-1' });
    const res = await client.broadcastWithdrawal({
      currency: 'LTC',
      txData: 'ab'.repeat(60),
      withdrawalId: 'w-1',
      signatureId: id,
    });
    expect(res.completed).toBe(true);
    expect(api.requestsTo('/v3/offchain/withdrawal/broadcast')[0]?.json).toEqual({
      currency: 'LTC',
      txData: 'ab'.repeat(60),
      withdrawalId: 'w-1',
      signatureId: id,
    });
    expect(
      await codeOf(client.broadcastWithdrawal({ currency: 'XRP', txData: 'ab', withdrawalId: 'w', signatureId: id })),
    ).toBe('TATUM_BAD_REQUEST');
    expect(usesOffchainBroadcast({ chain: 'LTC', withdrawalId: 'w' })).toBe(true);
    expect(usesOffchainBroadcast({ chain: 'BSC', withdrawalId: 'w' })).toBe(false);
    expect(usesOffchainBroadcast({ chain: 'LTC' })).toBe(false);
  });

  it('a 2xx broadcast answer without txId (or without boolean completed) is still an accepted broadcast, not a failure', async () => {
    const id = api.queue(ethPending());
    api.failNext({ kind: 'json', body: { ok: true } }, 1, { path: BROADCAST_PATHS.ETH });
    expect(await client.broadcast('ETH', '0x00', id)).toEqual({ txId: undefined });
    api.failNext({ kind: 'garbage' }, 1, { path: BROADCAST_PATHS.ETH });
    expect(await client.broadcast('ETH', '0x00', id)).toEqual({ txId: undefined });
    const w = api.queue({ chain: 'LTC', serializedTransaction: '{}', hashes: [WALLET_A], withdrawalId: 'w-2' });
    api.failNext({ kind: 'json', body: { txId: 'ab'.repeat(32), completed: 'yes' } }, 1, {
      path: '/v3/offchain/withdrawal/broadcast',
    });
    expect(
      await client.broadcastWithdrawal({ currency: 'LTC', txData: 'ab', withdrawalId: 'w-2', signatureId: w }),
    ).toEqual({
      txId: 'ab'.repeat(32),
      completed: undefined,
    });
    // A non-2xx answer is still a failure.
    api.failNext({ kind: 'status', status: 403 }, 1, { path: BROADCAST_PATHS.ETH });
    expect(await codeOf(client.broadcast('ETH', '0x00', id))).toBe('HTTP_STATUS');
  });

  it('a 2xx broadcast answer whose txId is not 1-200 characters of text counts as one without txId', async () => {
    const id = api.queue(ethPending());
    for (const body of [{ txId: 5 }, { txId: '' }, { txId: 'a'.repeat(201) }, ['0x' + 'ab'.repeat(32)], null, 'text']) {
      api.failNext({ kind: 'json', body }, 1, { path: BROADCAST_PATHS.ETH });
      expect(await client.broadcast('ETH', '0x00', id)).toEqual({ txId: undefined });
    }
  });

  it("completion() reads Tatum's answer through a schema: the field that is wrong is named, never its value", async () => {
    const id = api.queue(ethPending());
    const path = new RegExp(`^/v3/kms/${id}$`);
    const answer = async (body: unknown) => {
      api.failNext({ kind: 'json', body }, 1, { method: 'GET', path });
      return client.completion(id).catch((e: HardkmsError) => e);
    };
    expect(await answer({ id, txId: null })).toEqual({ state: 'pending' });
    expect(await answer({ id, txId: '' })).toEqual({ state: 'pending' });
    expect(await answer({ id })).toEqual({ state: 'pending' });
    expect(await answer({ id, txId: '0xd3adb33f' })).toEqual({ state: 'completed', txId: '0xd3adb33f' });
    for (const [body, why] of [
      [['d3adb33f'], /expected an object \(the pending transaction\), got an array of 1 entries/],
      [{ id, txId: 7 }, /txId: expected a transaction id .*, got a number/],
      [{ id, txId: `d3adb33f\n${'x'.repeat(10)}` }, /txId: expected a transaction id/],
      [{ id, txId: 'd3adb33f'.repeat(26) }, /txId: expected a transaction id/],
      [{ id: 'd3adb33f', txId: 'x' }, /the answer is another id/],
    ] as const) {
      const e = await answer(body);
      expect(e).toMatchObject({ code: 'TATUM_BAD_RESPONSE', message: expect.stringMatching(why) });
      expect((e as Error).message).not.toContain('d3adb33f');
    }
  });

  it('reports errors in one batch, and sends nothing for an empty batch', async () => {
    await client.reportErrors([]);
    expect(api.requests).toHaveLength(0);
    const id = api.queue(ethPending());
    await client.reportErrors([{ signatureId: id, error: 'Error: Private key was not found.' }]);
    const [req] = api.requestsTo('/v3/tatum/kms/batch');
    expect(req?.json).toEqual({ errors: [{ signatureId: id, error: 'Error: Private key was not found.' }] });
    expect(req?.headers['x-api-key']).toBe(API_KEY);
    expect(req?.headers['x-ttm-kms-client-version']).toBeUndefined();
    expect(api.errorReports).toEqual([{ signatureId: id, error: 'Error: Private key was not found.' }]);
  });

  it('formats error report text as §2.6 says', () => {
    const httpErr = new HttpError('HTTP_STATUS', 'x', {
      target: 'POST x',
      status: 403,
      bodyText: '{"errorCode":"a","message":"b"}',
    });
    expect(errorReportText(httpErr)).toBe('{\n  "errorCode": "a",\n  "message": "b"\n}');
    expect(errorReportText(new Error('boom'))).toBe('Error: boom');
    expect(errorReportText('x'.repeat(5000)).length).toBeLessThan(2100);
  });
});

// ---------------------------------------------------------------------------------------

describe('backoff', () => {
  it('grows exponentially from the base, caps at the maximum, and jitters down only', () => {
    const o = { baseMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.5 };
    expect(backoffDelay(0, 0, o)).toBe(0);
    expect(backoffDelay(1, 0, o)).toBe(1000);
    expect(backoffDelay(2, 0, o)).toBe(2000);
    expect(backoffDelay(5, 0, o)).toBe(16_000);
    expect(backoffDelay(7, 0, o)).toBe(60_000);
    expect(backoffDelay(1_000_000, 0, o)).toBe(60_000);
    expect(backoffDelay(1, 0.999999, o)).toBe(500);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const d = backoffDelay(n, r, o);
        return Number.isFinite(d) && d >= 0 && d <= 60_000 && d >= backoffDelay(n, 1, o);
      }),
    );
  });

  it('resets on success and never waits less than the poll period', () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 8000, jitter: 0 }, () => 0);
    expect(b.nextWait(5000)).toBe(5000);
    expect([b.failure(), b.failure(), b.failure(), b.failure(), b.failure()]).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(b.failures).toBe(5);
    expect(b.nextWait(5000)).toBe(8000);
    expect(b.nextWait(20_000)).toBe(20_000);
    b.success();
    expect(b.failures).toBe(0);
    expect(b.failure()).toBe(1000);
  });
});

// ---------------------------------------------------------------------------------------

describe('pending transaction validation (§2.3)', () => {
  const valid = {
    id: '5e6645712b55823de7ea82f1',
    chain: 'LTC',
    serializedTransaction: '{"hash":"00"}',
    hashes: [WALLET_A, WALLET_A],
    signatures: [{ id: WALLET_B, index: 7 }],
    index: null,
    withdrawalId: '62f2b0f3a7c1d40012345678',
    withdrawalResponses: [
      {
        address: { address: 'tltc1qxyz', currency: 'LTC', derivationKey: 4, xpub: 'tpub...' },
        amount: 0.5,
        vIn: 'ab'.repeat(32),
        vInIndex: 1,
        scriptPubKey: null,
      },
      // The pool remainder exactly as Tatum's own builder emits it (§2.3).
      { address: null, amount: 0.1, vIn: '-1', vInIndex: null, scriptPubKey: null },
    ],
    extraFieldFromTheFuture: true,
  };

  it('accepts the spec example and a full off-chain withdrawal, ignoring unknown fields', () => {
    const example = {
      id: '5e6645712b55823de7ea82f1',
      chain: 'ETH',
      serializedTransaction: '{"from":0,"to":"0x…","value":"1000000000000000","gasPrice":"20000000000"}',
      hashes: ['11115fc0-2112-4c8a-b8bf-353b86f63111'],
      index: 3,
    };
    const r1 = validatePending(example, 'ETH');
    expect(r1).toEqual({ ok: true, value: example, raw: example });
    const r2 = validatePending(valid);
    expect(r2.ok).toBe(true);
    if (r2.ok) {
      expect(r2.value.index).toBeUndefined();
      expect(r2.value.withdrawalResponses?.[0]?.address?.derivationKey).toBe(4);
      expect(r2.value.withdrawalResponses?.[1]).toEqual({ address: null, amount: 0.1, vIn: '-1' });
      expect(r2.value.withdrawalResponses?.[0]).not.toHaveProperty('scriptPubKey');
      expect(r2.value).not.toHaveProperty('extraFieldFromTheFuture');
      expect(r2.raw).toHaveProperty('extraFieldFromTheFuture');
    }
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['id too short', { id: '5e6645712b55823de7ea82f' }, 'id:'],
    ['id not hex (path injection)', { id: '../../../../evil/x123456' }, 'id:'],
    ['unknown chain', { chain: 'DOT' }, 'chain:'],
    ['serializedTransaction missing', { serializedTransaction: undefined }, 'serializedTransaction'],
    ['serializedTransaction not a string', { serializedTransaction: { a: 1 } }, 'serializedTransaction'],
    ['hashes element not a string', { hashes: [1] }, 'hashes[0]'],
    ['no wallet at all', { hashes: [], signatures: [] }, 'hashes'],
    ['signature index negative', { signatures: [{ id: WALLET_B, index: -1 }] }, 'signatures[0].index'],
    ['signature index fractional', { signatures: [{ id: WALLET_B, index: 1.5 }] }, 'signatures[0].index'],
    ['index hardened', { index: 2 ** 31 }, 'index'],
    ['index as string', { index: '3' }, 'index'],
    ['withdrawalId empty', { withdrawalId: '' }, 'withdrawalId'],
    ['withdrawalResponses not array', { withdrawalResponses: {} }, 'withdrawalResponses'],
    [
      'withdrawal vIn not a txid',
      { withdrawalResponses: [{ address: { address: 'a', currency: 'LTC' }, amount: 1, vIn: 'zz', vInIndex: 0 }] },
      'withdrawalResponses[0].vIn',
    ],
    [
      'withdrawal vInIndex missing',
      { withdrawalResponses: [{ address: { address: 'a', currency: 'LTC' }, amount: 1, vIn: 'ab'.repeat(32) }] },
      'vInIndex',
    ],
    [
      'withdrawal amount NaN-ish',
      { withdrawalResponses: [{ address: { address: 'a', currency: 'LTC' }, amount: '1', vIn: '-1' }] },
      'amount',
    ],
    [
      'withdrawal derivationKey negative',
      {
        withdrawalResponses: [
          {
            address: { address: 'a', currency: 'LTC', derivationKey: -2 },
            amount: 1,
            vIn: 'ab'.repeat(32),
            vInIndex: 0,
          },
        ],
      },
      'derivationKey',
    ],
    [
      'withdrawal input without address',
      { withdrawalResponses: [{ address: null, amount: 1, vIn: 'ab'.repeat(32), vInIndex: 0 }] },
      'withdrawalResponses[0].address',
    ],
  ];
  it('never validates the "-1" remainder entry beyond its amount (address, vInIndex, scriptPubKey absent, null or odd)', () => {
    for (const rest of [
      {},
      { address: null, vInIndex: null, scriptPubKey: null },
      { address: { derivationKey: -2 }, vInIndex: -1, scriptPubKey: 7 },
    ]) {
      const r = validatePending({
        ...valid,
        withdrawalResponses: [valid.withdrawalResponses[0], { amount: 0, vIn: '-1', ...rest }],
      });
      expect(r.ok, JSON.stringify(rest)).toBe(true);
    }
  });

  it('accepts signatures[].index null (the wallet is skipped at key resolution, not the transaction)', () => {
    const r = validatePending({ ...valid, signatures: [{ id: WALLET_B, index: null }] });
    expect(r.ok && r.value.signatures).toEqual([{ id: WALLET_B, index: null }]);
  });

  it.each(cases)('rejects %s, naming the field', (_name, patch, field) => {
    const r = validatePending({ ...valid, ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(field);
  });

  it('rejects a chain other than the polled one and never quotes serializedTransaction', () => {
    const r = validatePending({ ...valid, serializedTransaction: 'SECRET-MINT-KEY', hashes: 7 }, 'BTC');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('polling BTC');
      expect(r.id).toBe(valid.id);
    }
    const r2 = validatePending({ ...valid, serializedTransaction: 12345 });
    expect(!r2.ok && !r2.reason.includes('12345')).toBe(true);
  });

  it('answers garbage bodies with an error result, never an exception', () => {
    expect(validatePendingList('<html>')).toEqual({ ok: false, reason: 'pending transactions: response is not JSON' });
    expect(validatePendingList('{"a":1}').ok).toBe(false);
    expect(validatePendingList(null).ok).toBe(false);
    expect(validatePendingList('[]')).toEqual({ ok: true, transactions: [], raws: [], malformed: [] });
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    expect(validatePending(hostile).ok).toBe(false);
    expect(validatePendingList([hostile]).ok).toBe(true);
  });

  it('fuzz: arbitrary values never throw and are rejected with a reason', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true, withBigInt: true }), (v) => {
        const r = validatePending(v);
        return r.ok ? typeof r.value.id === 'string' : typeof r.reason === 'string' && r.reason.length > 0;
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (v) => {
        const r = validatePendingList(v);
        return r.ok || r.reason.length > 0;
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: a valid transaction with one field replaced by garbage is rejected naming that field, or still valid', () => {
    const fields = [
      'id',
      'chain',
      'serializedTransaction',
      'hashes',
      'signatures',
      'index',
      'withdrawalId',
      'withdrawalResponses',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.anything({ withBigInt: true }), (field, garbage) => {
        const r = validatePending({ ...valid, [field]: garbage });
        if (r.ok) {
          // Only acceptable when the garbage happens to be valid for that field (e.g. null for an optional one).
          if (field === 'id') return typeof garbage === 'string' && PENDING_ID_PATTERN.test(garbage);
          if (field === 'chain') return isTatumChain(garbage);
          return true;
        }
        return r.reason.includes(field);
      }),
      { numRuns: 4000 },
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('four-eyes approval (§2.9)', () => {
  const secret = Buffer.from('approval-shared-secret');
  let approver: FakeApprover;
  let elsewhere: FakeApprover;
  const id = '5e6645712b55823de7ea82f1';

  beforeAll(async () => {
    approver = await FakeApprover.start({ secret });
    elsewhere = await FakeApprover.start({ secret });
  });
  afterAll(async () => {
    await approver.stop();
    await elsewhere.stop();
  });
  beforeEach(() => {
    approver.mode = 'normal';
    approver.status = 200;
    approver.approved.clear();
    approver.requests.length = 0;
    elsewhere.requests.length = 0;
  });

  it('GET {externalUrl}/{id}: 2xx approves, 404 denies', async () => {
    const a = new ExternalApprover({ externalUrl: approver.url, timeoutMs: 500 });
    try {
      expect(await a.approve(id)).toMatchObject({ approved: false, status: 404 });
      approver.approved.add(id);
      approver.status = 204;
      expect(await a.approve(id, { ignored: true })).toEqual({ approved: true, status: 204 });
      expect(approver.requests.map((r) => [r.method, r.path, r.bodyText])).toEqual([
        ['GET', `/approve/${id}`, ''],
        ['GET', `/approve/${id}`, ''],
      ]);
    } finally {
      a.close();
    }
  });

  it("POST only when the method is exactly 'POST', with the pending transaction as body", async () => {
    approver.approved.add(id);
    const raw = { id, chain: 'ETH', serializedTransaction: '{}', hashes: [WALLET_A], futureField: 1 };
    const post = new ExternalApprover({ externalUrl: approver.url, method: 'POST', timeoutMs: 500 });
    const lower = new ExternalApprover({ externalUrl: approver.url, method: 'post', timeoutMs: 500 });
    try {
      expect((await post.approve(id, raw)).approved).toBe(true);
      expect((await lower.approve(id, raw)).approved).toBe(true);
      expect(approver.requests[0]).toMatchObject({ method: 'POST', path: `/approve/${id}`, json: raw });
      expect(approver.requests[1]).toMatchObject({ method: 'GET', bodyText: '' });
    } finally {
      post.close();
      lower.close();
    }
  });

  it('with a secret, requires the HMAC header: right MAC approves, wrong or missing MAC denies', async () => {
    approver.approved.add(id);
    const a = new ExternalApprover({ externalUrl: approver.url, secret, timeoutMs: 500 });
    const wrongSecret = new ExternalApprover({
      externalUrl: approver.url,
      secret: Buffer.from('other'),
      timeoutMs: 500,
    });
    try {
      expect((await a.approve(id)).approved).toBe(true);
      expect((await wrongSecret.approve(id)).approved).toBe(false);
      approver.mode = 'wrong-mac';
      const d1 = await a.approve(id);
      expect(d1.approved).toBe(false);
      if (!d1.approved) expect(d1.reason).toContain('does not match');
      approver.mode = 'no-mac';
      const d2 = await a.approve(id);
      expect(d2.approved).toBe(false);
      if (!d2.approved) expect(d2.reason).toContain(APPROVAL_HEADER);
    } finally {
      a.close();
      wrongSecret.close();
    }
    expect(approvalProof(secret, { pendingId: id, payloadSha256: 'ab'.repeat(32), nonce: 'n', expires: 1 })).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it('does not follow redirects: a 302 denies and the target is never asked', async () => {
    elsewhere.approved.add(id);
    approver.mode = 'redirect';
    approver.redirectTo = `${elsewhere.url}/${id}`;
    const a = new ExternalApprover({ externalUrl: approver.url, timeoutMs: 500 });
    try {
      const d = await a.approve(id);
      expect(d).toMatchObject({ approved: false, status: 302 });
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      a.close();
    }
  });

  it('denies when the approver hangs (timeout) or is down', async () => {
    approver.approved.add(id);
    approver.mode = 'hang';
    const a = new ExternalApprover({ externalUrl: approver.url, timeoutMs: 300 });
    const down = await FakeApprover.start();
    const downUrl = down.url;
    await down.stop();
    const b = new ExternalApprover({ externalUrl: downUrl, timeoutMs: 300 });
    try {
      const d1 = await a.approve(id);
      expect(d1.approved).toBe(false);
      if (!d1.approved) expect(d1.reason).toContain('did not complete');
      const d2 = await b.approve(id);
      expect(d2.approved).toBe(false);
      if (!d2.approved) expect(d2.reason).toContain('ECONNREFUSED');
    } finally {
      a.close();
      b.close();
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('HTTP transport and node JSON-RPC', () => {
  let server: http.Server;
  let base: string;
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const seen: { auth?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ ...(req.headers.authorization === undefined ? {} : { auth: req.headers.authorization }), body });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const reply = (status: number, text: string): void => {
          inFlight--;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(text);
        };
        const url = req.url ?? '';
        if (url === '/slow') return void setTimeout(() => reply(200, '{}'), 50);
        if (url === '/big') return reply(200, JSON.stringify('x'.repeat(5000)));
        if (url.startsWith('/rpc')) {
          if (req.headers.authorization !== 'Basic ' + Buffer.from('user:p@ss:word').toString('base64')) {
            return reply(401, 'Unauthorized');
          }
          const call = JSON.parse(body) as { id: number; method: string };
          if (call.method === 'sendrawtransaction') {
            return reply(
              500,
              JSON.stringify({
                result: null,
                error: { code: -27, message: 'Transaction already in block chain' },
                id: call.id,
              }),
            );
          }
          if (call.method === 'eth_sendRawTransaction') {
            return reply(
              200,
              JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32000, message: 'already known' } }),
            );
          }
          return reply(200, JSON.stringify({ jsonrpc: '2.0', id: call.id, result: '0x7a69' }));
        }
        reply(200, '{"ok":true}');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('keeps connections alive and never opens more than maxSockets at once', async () => {
    const c = new HttpClient({ timeoutMs: 2000 });
    try {
      connections = 0;
      for (let i = 0; i < 5; i++) await c.requestJson({ method: 'GET', url: `${base}/x` });
      expect(connections).toBe(1);
      maxInFlight = 0;
      await Promise.all(Array.from({ length: 12 }, () => c.request({ method: 'GET', url: `${base}/slow` })));
      expect(maxInFlight).toBeLessThanOrEqual(4);
      expect(connections).toBeLessThanOrEqual(4);
    } finally {
      c.close();
    }
  });

  it('caps response size and reports non-JSON bodies as HTTP_BAD_JSON', async () => {
    const c = new HttpClient({ timeoutMs: 2000, maxResponseBytes: 1000 });
    try {
      expect(await codeOf(c.request({ method: 'GET', url: `${base}/big` }))).toBe('HTTP_RESPONSE_TOO_LARGE');
      expect(await codeOf(c.request({ method: 'GET', url: 'ftp://127.0.0.1/' }))).toBe('HTTP_NETWORK');
    } finally {
      c.close();
    }
  });

  it('sends basic auth from the URL userinfo and keeps credentials out of errors', async () => {
    const good = new JsonRpcClient({ url: `http://user:p%40ss%3Aword@${base.slice(7)}/rpc` });
    const bad = new JsonRpcClient({ url: `http://user:hunter2@${base.slice(7)}/rpc` });
    try {
      expect(await good.call('eth_chainId')).toBe('0x7a69');
      expect(good.target).not.toContain('p%40ss');
      const err = await bad.call('eth_chainId').catch((e: unknown) => e);
      expect((err as HttpError).status).toBe(401);
      expect(JSON.stringify({ m: (err as Error).message, t: (err as HttpError).target })).not.toContain('hunter2');
    } finally {
      good.close();
      bad.close();
    }
  });

  it('maps JSON-RPC errors (Bitcoin-style HTTP 500 and EVM-style 200) to RpcError; already-known is recognised', async () => {
    const c = new JsonRpcClient({ url: `http://user:p%40ss%3Aword@${base.slice(7)}/rpc`, version: '1.0' });
    try {
      const e1 = await c.call('sendrawtransaction', ['00']).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(RpcError);
      expect((e1 as RpcError).rpcCode).toBe(-27);
      expect(isAlreadyKnownError(e1)).toBe(true);
      const e2 = await c.call('eth_sendRawTransaction', ['0x00']).catch((e: unknown) => e);
      expect(isAlreadyKnownError(e2)).toBe(true);
      expect(isAlreadyKnownError(new Error('already known'))).toBe(false);
      expect(JSON.parse(seen.at(-1)?.body ?? '{}')).toMatchObject({
        jsonrpc: '1.0',
        method: 'eth_sendRawTransaction',
        params: ['0x00'],
      });
    } finally {
      c.close();
    }
  });

  it('reads HARDKMS_RPC_<CHAIN>', () => {
    expect(nodeRpcUrlFromEnv('LTC', { HARDKMS_RPC_LTC: ' http://u:p@127.0.0.1:1/ ' })).toBe('http://u:p@127.0.0.1:1/');
    expect(nodeRpcUrlFromEnv('ETH', { HARDKMS_RPC_ETH: '' })).toBeUndefined();
  });
});
