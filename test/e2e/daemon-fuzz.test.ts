/**
 * Fuzz: a few thousand malformed pending transactions through the fake Tatum API into one
 * in-process daemon cycle (real HTTP, real SoftHSM2 token, real journal and audit). Each
 * must come back in the error batch with a coded, readable reason (never an INTERNAL error,
 * which would mean some input reached code that did not expect it), and the daemon must
 * keep working afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TatumBroadcaster } from '../../src/signer/sinks/broadcast.js';
import { pinnedChainId } from '../../src/signer/pipeline/chain-ids.js';
import { SignerDaemon } from '../../src/signer/daemon.js';
import { NodeEvmFiller } from '../../src/signer/pipeline/evm-fill.js';
import { Journal } from '../../src/signer/pipeline/journal.js';
import { PendingProcessor } from '../../src/signer/pipeline/process-pending.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { ABANDON, addMnemonic, addPrivateKey, testKey } from './support.js';

const CHAINS = ['ETH', 'LTC', 'TRON', 'BCH'] as const;
const COUNT = 2_500;

describe('daemon fuzz: malformed pending transactions', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let tatum: TatumClient;
  let daemon: SignerDaemon;
  const wallets: Record<string, string[]> = {};

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    for (const [i, c] of CHAINS.entries())
      wallets[c] = [addPrivateKey(tv.vault, c, true, testKey(0x70 + i)), addMnemonic(tv.vault, c, true, ABANDON)];
    api = await FakeTatumApi.start();
    tatum = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'fuzz' });
    const journal = new Journal(tv.vault.store);
    const processor = new PendingProcessor({
      vault: tv.vault,
      journal,
      testnet: true,
      broadcaster: new TatumBroadcaster(tatum),
      evm: new NodeEvmFiller((c) => pinnedChainId(c as 'ETH', true, {}), new Map()),
      log: () => {},
    });
    daemon = new SignerDaemon(
      tv.vault,
      tatum,
      processor,
      { chains: [...CHAINS], testnet: true, periodMs: 1000 },
      () => {},
    );
  });
  afterAll(async () => {
    tatum?.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  const hexStr = (min: number, max: number) =>
    fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));
  /** Mostly well-formed values, sometimes not: so that payloads get past the first checks and into the chain code. */
  const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
    fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: bad });
  const garbage = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.boolean(),
    fc.constant(-1),
    fc.bigInt().map(String),
  );
  const amount = mostly(
    fc.oneof(
      fc.nat(),
      fc.bigInt({ min: 0n, max: 10n ** 24n }).map(String),
      fc.nat().map((n) => `0x${n.toString(16)}`),
    ),
    garbage,
  );
  const evmPayload = fc
    .record(
      {
        to: mostly(
          hexStr(20, 20).map((h) => `0x${h}`),
          fc.string(),
        ),
        value: amount,
        gasPrice: amount,
        gas: amount,
        nonce: amount,
        data: mostly(
          fc.constantFrom('0x', '0xa9059cbb' + '00'.repeat(64)),
          hexStr(0, 80).map((h) => `0x${h}`),
        ),
        chainId: mostly(fc.constantFrom(11155111, '0xaa36a7'), amount),
        maxFeePerGas: amount,
        maxPriorityFeePerGas: amount,
        type: mostly(fc.constantFrom(0, 2), garbage),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));
  const script = mostly(
    fc.constantFrom(
      '76a914' + '11'.repeat(20) + '88ac',
      '0014' + '22'.repeat(20),
      'a914' + '33'.repeat(20) + '87',
      '6a',
    ),
    hexStr(0, 40),
  );
  const utxoPayload = fc
    .record(
      {
        hash: mostly(hexStr(32, 32), hexStr(0, 40)),
        version: mostly(fc.constantFrom(1, 2), garbage),
        inputs: fc.array(
          fc.record(
            {
              prevTxId: mostly(hexStr(32, 32), hexStr(0, 40)),
              outputIndex: mostly(fc.nat(3), garbage),
              sequenceNumber: mostly(fc.constant(4294967295), garbage),
              script: mostly(fc.constant(''), hexStr(0, 30)),
              output: mostly(fc.record({ satoshis: amount, script }), fc.anything()),
            },
            { requiredKeys: ['prevTxId', 'outputIndex', 'output'] },
          ),
          { maxLength: 3 },
        ),
        outputs: fc.array(fc.record({ satoshis: amount, script }), { maxLength: 3 }),
        nLockTime: mostly(fc.constant(0), garbage),
        changeScript: fc.option(fc.string(), { nil: undefined }),
        changeIndex: fc.option(garbage, { nil: undefined }),
      },
      { requiredKeys: ['inputs', 'outputs'] },
    )
    .map((o) => JSON.stringify(o));
  const bchPayload = fc
    .tuple(hexStr(0, 160), mostly(fc.array(amount, { maxLength: 3 }), fc.anything()))
    .map(([h, j]) => `${h}:${JSON.stringify(j)}`);
  const tronPayload = fc
    .record(
      {
        txID: mostly(hexStr(32, 32), fc.string()),
        raw_data_hex: hexStr(0, 120),
        raw_data: mostly(fc.record({ contract: fc.anything() }), fc.anything()),
        visible: fc.boolean(),
        signature: fc.anything(),
      },
      { requiredKeys: ['txID', 'raw_data_hex'] },
    )
    .map((o) => JSON.stringify(o));
  const byChain = { ETH: evmPayload, LTC: utxoPayload, BCH: bchPayload, TRON: tronPayload };
  const rarely = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  const withdrawal = fc.array(
    fc.record({
      address: mostly(
        fc.record(
          {
            address: fc.string({ minLength: 1 }),
            currency: fc.constant('LTC'),
            derivationKey: mostly(fc.nat(3), garbage),
          },
          { requiredKeys: ['address', 'currency'] },
        ),
        fc.anything(),
      ),
      amount: mostly(fc.double({ min: 0, max: 10, noNaN: true }), garbage),
      vIn: mostly(hexStr(32, 32), fc.constantFrom('-1', 'x')),
      vInIndex: mostly(fc.nat(3), garbage),
    }),
    { maxLength: 3 },
  );

  it(`reports each of ${COUNT} malformed transactions with a coded reason and keeps running`, async () => {
    const entries = fc.sample(
      fc.record({
        polled: fc.constantFrom(...CHAINS),
        otherChain: rarely(fc.oneof(fc.string(), fc.constantFrom(...CHAINS))),
        payloads: fc.record(byChain),
        anyPayload: fc.oneof(fc.string(), fc.json(), fc.anything()),
        anyWeight: fc.nat(9),
        hashKind: fc.constantFrom('own', 'own', 'own', 'own', 'mnemonic', 'other', 'garbage', 'empty'),
        index: rarely(mostly(fc.nat(5), garbage)),
        signatures: rarely(
          mostly(
            fc.array(fc.record({ index: mostly(fc.nat(5), garbage) }), { minLength: 1, maxLength: 2 }),
            fc.anything(),
          ),
        ),
        withdrawalId: rarely(mostly(fc.string({ minLength: 1, maxLength: 30 }), fc.anything())),
        withdrawalResponses: rarely(mostly(withdrawal, fc.anything())),
      }),
      { numRuns: COUNT, seed: 20_240_601 },
    );
    const ids: string[] = [];
    entries.forEach((e, i) => {
      const id = (0xf00000 + i).toString(16).padStart(24, '0');
      ids.push(id);
      const chain = e.polled;
      const [own, mnemonic] = wallets[chain]!;
      const hashes =
        e.hashKind === 'own'
          ? [own]
          : e.hashKind === 'mnemonic'
            ? [mnemonic]
            : e.hashKind === 'other'
              ? [wallets[chain === 'ETH' ? 'LTC' : 'ETH']![1]]
              : e.hashKind === 'empty'
                ? []
                : [e.anyPayload];
      const serializedTransaction = e.anyWeight === 0 ? e.anyPayload : e.payloads[chain];
      const tx: Record<string, unknown> = { id, chain: e.otherChain ?? chain, serializedTransaction, hashes };
      if (e.index !== undefined) tx.index = e.index;
      if (e.signatures !== undefined)
        tx.signatures = Array.isArray(e.signatures)
          ? e.signatures.map((s) => ({ id: mnemonic, ...(s as object) }))
          : e.signatures;
      if (e.withdrawalId !== undefined) tx.withdrawalId = e.withdrawalId;
      if (e.withdrawalResponses !== undefined) tx.withdrawalResponses = e.withdrawalResponses;
      api.queueRaw(chain, tx);
    });
    // Entries without a usable id are logged and skipped (nothing to report them under).
    api.queueRaw('ETH', { id: 'not-an-id', chain: 'ETH', serializedTransaction: '{}', hashes: [] });
    api.queueRaw('LTC', 'just a string');

    const result = await daemon.runCycle();
    const reported = new Map(api.errorReports.map((r) => [r.signatureId, r.error]));
    const broadcast = new Set(api.broadcasts.map((b) => b.signatureId));
    const unexplained = ids.filter((id) => !reported.has(id) && !broadcast.has(id));
    expect(unexplained).toEqual([]);
    const codes = new Map<string, number>();
    for (const e of reported.values()) codes.set(e.split(':')[0]!, (codes.get(e.split(':')[0]!) ?? 0) + 1);
    if (process.env.HARDKMS_FUZZ_STATS === '1') console.log(codes);
    // The generators are tuned so that most entries pass the envelope check and reach the chain code.
    expect(reported.size - (codes.get('TX_MALFORMED') ?? 0)).toBeGreaterThan(COUNT / 3);
    const internal = [...reported.values()].filter((e) => e.startsWith('INTERNAL'));
    expect(internal).toEqual([]);
    // A coded reason, or (for a transaction that happened to be valid and was signed) the API's error body (§2.6).
    for (const e of reported.values()) expect(e).toMatch(/^([A-Z][A-Z0-9_]+: \S.{8,}|\{\n {2}"statusCode")/s);
    expect(result.failed).toBeGreaterThanOrEqual(COUNT + 2 - broadcast.size);
    // One batch for the whole cycle.
    expect(api.requestsTo('/v3/tatum/kms/batch')).toHaveLength(1);
  }, 240_000);

  it('survives garbage and non-array answers from the API, then signs a good transaction', async () => {
    api.clearQueue();
    api.failNext({ kind: 'garbage' }, 1, { path: '/v3/kms/pending/ETH' });
    api.failNext({ kind: 'json', body: { not: 'an array' } }, 1, { path: '/v3/kms/pending/LTC' });
    // A reset on a reused keep-alive socket is re-sent once (src/signer/http.ts); a server that
    // resets again is a failure of that chain's poll.
    api.failNext({ kind: 'reset' }, 2, { path: '/v3/kms/pending/TRON' });
    const before = api.requestsTo('/v3/kms/pending/TRON').length;
    const bad = await daemon.runCycle();
    expect(bad.apiFailures).toBe(3);
    expect(api.requestsTo('/v3/kms/pending/TRON').length - before).toBeGreaterThanOrEqual(1);
    const id = api.queue({
      chain: 'ETH',
      hashes: [wallets.ETH![0]!],
      serializedTransaction: JSON.stringify({
        to: '0x' + '12'.repeat(20),
        value: '1',
        gasPrice: '1',
        gas: 21000,
        nonce: 0,
      }),
    });
    const good = await daemon.runCycle();
    expect(good.outcomes.get(id)).toMatchObject({ kind: 'broadcast' });
  });
});
