/**
 * Attacks on the signing policy by a compromised (or spoofed) Tatum API: it chooses the
 * payloads. Each attack is a pending transaction served by the real HTTP test server to a
 * real signer (SoftHSM2 token, wallet.dat); the attack succeeds if a signed transaction is
 * broadcast. Each test fails on the code before issue 10's fix (checked once, see the note
 * of issue 10).
 */
import { createHash } from 'node:crypto';
import { address as baddress, networks } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getChainAdapter } from '../../src/chains/registry.js';
import { parsePolicy } from '../../src/signer/pipeline/policy.js';
import { ExternalApprover } from '../../src/signer/pipeline/approval.js';
import { bitcoreJson, evmPayload } from '../../scripts/lib/payloads.js';
import { fBytes, fVarint } from '../support/protobuf-writer.js';
import { FakeApprover, FakeTatumApi, newPendingId } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, compressedPub, testKey } from '../e2e/support.js';
import { tronAddress, TRON_RECIPIENT } from '../e2e/tron-payload.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

const ATTACKER = '0x000000000000000000000000000000000000a77a';
const A = '0x1111111111111111111111111111111111111111';
const ETHER = 10n ** 18n;
const GWEI = 10n ** 9n;
const word = (hex: string) => hex.replace(/^0x/, '').padStart(64, '0');

/** ERC-20 approve(spender, amount) calldata. */
const approveData = (spender: string, amount: bigint) => `0x095ea7b3${word(spender)}${word(amount.toString(16))}`;

/** An unsigned TRC-10 TransferAssetContract for `asset`, protobuf by hand as test/e2e/tron-payload.ts does. */
function trc10Payload(ownerPub: Uint8Array, asset: string, amount: number): string {
  const owner = tronAddress(ownerPub);
  const hex = (b: Uint8Array | number[]) => Buffer.from(Uint8Array.from(b)).toString('hex');
  const value = [
    ...fBytes(1, [...Buffer.from(asset, 'utf8')]),
    ...fBytes(2, owner),
    ...fBytes(3, TRON_RECIPIENT),
    ...fVarint(4, amount),
  ];
  const any = [
    ...fBytes(1, [...Buffer.from('type.googleapis.com/protocol.TransferAssetContract')]),
    ...fBytes(2, value),
  ];
  const contract = [...fVarint(1, 2), ...fBytes(2, any)];
  const refBytes = [0x4f, 0x2a];
  const refHash = [1, 2, 3, 4, 5, 6, 7, 8];
  const raw = [
    ...fBytes(1, refBytes),
    ...fBytes(4, refHash),
    ...fVarint(8, 1_700_000_060_000),
    ...fBytes(11, contract),
    ...fVarint(14, 1_700_000_000_000),
  ];
  const rawHex = hex(raw);
  return JSON.stringify({
    visible: true,
    txID: createHash('sha256').update(Buffer.from(rawHex, 'hex')).digest('hex'),
    raw_data: {
      contract: [
        {
          parameter: {
            value: { amount, asset_name: asset, owner_address: hex(owner), to_address: hex(TRON_RECIPIENT) },
            type_url: 'type.googleapis.com/protocol.TransferAssetContract',
          },
          type: 'TransferAssetContract',
        },
      ],
      ref_block_bytes: hex(refBytes),
      ref_block_hash: hex(refHash),
      expiration: 1_700_000_060_000,
      timestamp: 1_700_000_000_000,
    },
    raw_data_hex: rawHex,
  });
}

describe('attacks on the signing policy', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let eth: string;
  let btc: string;
  let tron: string;
  let btcScript: Uint8Array;
  let nonce = 0;
  const signers: Signer[] = [];

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: false });
    eth = addPrivateKey(tv.vault, 'ETH', true, testKey(0x31));
    btc = addPrivateKey(tv.vault, 'BTC', true, testKey(0x32));
    tron = addPrivateKey(tv.vault, 'TRON', true, testKey(0x33));
    const btcAddress = getChainAdapter('BTC').addressFromPublicKey(compressedPub(testKey(0x32)), true);
    btcScript = baddress.toOutputScript(btcAddress, networks.testnet);
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    for (const s of signers) s.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  const signer = (options: Partial<Parameters<typeof inProcessSigner>[2]> = {}): Signer => {
    const s = inProcessSigner(tv.vault, api, { testnet: true, chains: ['ETH', 'BTC', 'TRON'], ...options });
    signers.push(s);
    return s;
  };
  const broadcastsOf = (id: string) => api.broadcasts.filter((b) => b.signatureId === id);
  const reportOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);
  const ethTx = (fields: Record<string, unknown>) =>
    JSON.stringify({ gasPrice: GWEI.toString(), gas: 21000, nonce: nonce++, ...fields });

  it('a 4.99999 BTC miner fee is refused without any policy file (built-in maxFee)', async () => {
    api.clearQueue();
    const txid = 'ab'.repeat(32);
    const id = api.queue({
      chain: 'BTC',
      hashes: [btc],
      // 5 BTC in, 0.00001 BTC out: the rest goes to the miner.
      serializedTransaction: bitcoreJson(
        [{ txid, vout: 0, satoshis: 5e8, script: btcScript }],
        [{ script: btcScript, satoshis: 1000 }],
      ),
    });
    const r = await cycle(signer());
    expect(r.error).toBeUndefined();
    expect(broadcastsOf(id)).toEqual([]);
    expect(reportOf(id)).toEqual([
      expect.stringMatching(/^POLICY_VIOLATION: fee 4\.99999 BTC exceeds maxFee 0\.01 BTC \(the built-in limit\)/),
    ]);
  });

  it('a 21 ETH gas fee is refused without any policy file, and a chain rule may set its own maxFee / maxFeeRate', async () => {
    api.clearQueue();
    // 21000 gas at 1,000,000 gwei: 21 ETH to the block producer for a 1 wei transfer.
    const id = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: A, value: '1', gasPrice: (1_000_000n * GWEI).toString() }),
    });
    await cycle(signer());
    expect(broadcastsOf(id)).toEqual([]);
    expect(reportOf(id)).toEqual([expect.stringMatching(/^POLICY_VIOLATION: fee 21 ETH exceeds maxFee 0\.1 ETH/)]);

    api.clearQueue();
    const policy = parsePolicy(JSON.stringify({ chains: { ETH: { maxFee: '0.5', maxFeeRate: '20' } } }));
    const rate = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: A, value: '1', gasPrice: (21n * GWEI).toString() }),
    });
    const fine = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: A, value: '1', gasPrice: (20n * GWEI).toString() }),
    });
    await cycle(signer({ policy }));
    expect(reportOf(rate)).toEqual([
      expect.stringMatching(/^POLICY_VIOLATION: fee rate 21 gwei exceeds maxFeeRate 20 gwei \(policy chains\.ETH\)/),
    ]);
    expect(broadcastsOf(fine)).toHaveLength(1);
  });

  it('the fee counts toward maxAmount and maxPer24h', async () => {
    api.clearQueue();
    const fee = 21000n * GWEI;
    // A wallet of its own, so that its 24 h sum starts at zero.
    const w = addPrivateKey(tv.vault, 'ETH', true, testKey(0x34));
    const policy = parsePolicy(
      JSON.stringify({
        wallets: { [w]: { maxAmount: (1000n + fee).toString(), maxPer24h: (3000n + 2n * fee).toString() } },
      }),
    );
    const s = signer({ policy });
    const over = api.queue({ chain: 'ETH', hashes: [w], serializedTransaction: ethTx({ to: A, value: '1001' }) });
    const first = api.queue({ chain: 'ETH', hashes: [w], serializedTransaction: ethTx({ to: A, value: '1000' }) });
    await cycle(s);
    expect(broadcastsOf(over)).toEqual([]);
    expect(broadcastsOf(first)).toHaveLength(1);
    api.clearQueue();
    const second = api.queue({ chain: 'ETH', hashes: [w], serializedTransaction: ethTx({ to: A, value: '1000' }) });
    const third = api.queue({ chain: 'ETH', hashes: [w], serializedTransaction: ethTx({ to: A, value: '1000' }) });
    await cycle(s);
    expect(broadcastsOf(second)).toHaveLength(1);
    // 3 × (1000 + fee) > 3000 + 2 × fee: the third is refused although its values sum to 3000.
    expect(reportOf(third)).toEqual([expect.stringMatching(/^POLICY_VIOLATION: .*exceeds maxPer24h/)]);
  });

  it('an unlimited approve(attacker) on a chain with no rule is refused; a bounded one counts as spending', async () => {
    api.clearQueue();
    const token = '0x3333333333333333333333333333333333333333';
    const unlimited = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: token, data: approveData(ATTACKER, (1n << 256n) - 1n), gas: 60000 }),
    });
    await cycle(signer());
    expect(broadcastsOf(unlimited)).toEqual([]);
    expect(reportOf(unlimited)).toEqual([
      expect.stringMatching(/^POLICY_VIOLATION: an unlimited approval of token 0x3{40} to 0x0{36}a77a is not allowed/),
    ]);

    // Even where contract calls are allowed, an approval is a token spend: limited like a transfer.
    api.clearQueue();
    const policy = parsePolicy(
      JSON.stringify({ chains: { ETH: { allowContractCalls: true, tokens: { [token]: { maxAmount: '100' } } } } }),
    );
    const big = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: token, data: approveData(ATTACKER, 101n), gas: 60000 }),
    });
    const unl = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: token, data: approveData(ATTACKER, (1n << 256n) - 1n), gas: 60000 }),
    });
    const small = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: token, data: approveData(ATTACKER, 100n), gas: 60000 }),
    });
    await cycle(signer({ policy }));
    expect(reportOf(big)).toEqual([
      expect.stringMatching(/token 0x3{40} \(approval\) amount 101 exceeds maxAmount 100/),
    ]);
    expect(reportOf(unl)).toEqual([expect.stringMatching(/unlimited approval .* allowUnlimitedApprovals is false/)]);
    expect(broadcastsOf(small)).toHaveLength(1);
  });

  it('unknown calldata is refused unless the policy allows that contract and selector', async () => {
    api.clearQueue();
    const router = '0x4444444444444444444444444444444444444444';
    const data = `0x38ed1739${word('1')}`;
    const noPolicy = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: router, data, gas: 90000 }),
    });
    await cycle(signer());
    expect(broadcastsOf(noPolicy)).toEqual([]);
    expect(reportOf(noPolicy)).toEqual([
      expect.stringMatching(
        /^POLICY_VIOLATION: a contract call \(selector 0x38ed1739\) to 0x4{40} with unknown calldata is not allowed/,
      ),
    ]);

    api.clearQueue();
    const policy = parsePolicy(JSON.stringify({ chains: { ETH: { contracts: { [router]: ['0x38ed1739'] } } } }));
    const listed = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: router, data, gas: 90000 }),
    });
    const other = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: ethTx({ to: router, data: `0xdeadbeef${word('1')}`, gas: 90000 }),
    });
    await cycle(signer({ policy }));
    expect(broadcastsOf(listed)).toHaveLength(1);
    expect(reportOf(other)).toEqual([expect.stringMatching(/selector 0xdeadbeef.*is not allowed/)]);
  });

  it('a TRC-10 asset named __proto__ or constructor does not bypass a token allow-list', async () => {
    api.clearQueue();
    const policy = parsePolicy(JSON.stringify({ chains: { TRON: { tokens: { '1002000': { maxAmount: '10' } } } } }));
    const pub = compressedPub(testKey(0x33));
    const proto = api.queue({
      chain: 'TRON',
      hashes: [tron],
      serializedTransaction: trc10Payload(pub, '__proto__', 1_000_000),
    });
    const ctor = api.queue({
      chain: 'TRON',
      hashes: [tron],
      serializedTransaction: trc10Payload(pub, 'constructor', 1_000_000),
    });
    const listed = api.queue({
      chain: 'TRON',
      hashes: [tron],
      serializedTransaction: trc10Payload(pub, '1002000', 10),
    });
    await cycle(signer({ policy }));
    expect(broadcastsOf(proto)).toEqual([]);
    expect(broadcastsOf(ctor)).toEqual([]);
    expect(reportOf(proto)).toEqual([expect.stringMatching(/token __proto__ is not in the allowed tokens/)]);
    expect(reportOf(ctor)).toEqual([expect.stringMatching(/token constructor is not in the allowed tokens/)]);
    expect(broadcastsOf(listed)).toHaveLength(1);
  });

  it('a contract creation with no code and a value is never signed, whatever hides the recipient', async () => {
    api.clearQueue();
    const base = { value: ETHER.toString(), gasPrice: GWEI.toString(), gas: 60000 };
    const ids = [
      api.queue({ chain: 'ETH', hashes: [eth], serializedTransaction: JSON.stringify({ ...base, nonce: nonce++ }) }),
      api.queue({
        chain: 'ETH',
        hashes: [eth],
        serializedTransaction: JSON.stringify({ ...base, nonce: nonce++, to: null }),
      }),
      api.queue({
        chain: 'ETH',
        hashes: [eth],
        serializedTransaction: JSON.stringify({ ...base, nonce: nonce++, to: '' }),
      }),
      api.queue({
        chain: 'ETH',
        hashes: [eth],
        serializedTransaction: `{"__proto__":{"to":"${A}"},${JSON.stringify({ ...base, nonce: nonce++ }).slice(1)}`,
      }),
    ];
    await cycle(signer());
    for (const id of ids) {
      expect(broadcastsOf(id)).toEqual([]);
      expect(reportOf(id)).toEqual([expect.stringMatching(/contract creation without init code .* is never signed/)]);
    }
    // Even a policy that allows deploys and every call does not let a code-less creation through.
    api.clearQueue();
    const policy = parsePolicy(JSON.stringify({ chains: { ETH: { allowDeploy: true, allowContractCalls: true } } }));
    const allowed = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: JSON.stringify({ ...base, nonce: nonce++ }),
    });
    await cycle(signer({ policy }));
    expect(reportOf(allowed)).toEqual([
      expect.stringMatching(/contract creation without init code .* is never signed/),
    ]);
    // A creation with code is refused unless a rule allows deploys.
    api.clearQueue();
    const deploy = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: JSON.stringify({ ...base, value: '0', data: '0x6080604052', nonce: nonce++ }),
    });
    await cycle(signer());
    expect(reportOf(deploy)).toEqual([
      expect.stringMatching(/contract deployment \(no recipient\) is not allowed \(no policy rule allows deploys\)/),
    ]);
  });

  it('a payload whose JSON repeats a key is refused, not signed last-key-wins', async () => {
    api.clearQueue();
    const payload = `{"to":"${A}","value":"1","gasPrice":"${GWEI}","gas":21000,"nonce":${nonce++},"to":"${ATTACKER}"}`;
    const id = api.queue({ chain: 'ETH', hashes: [eth], serializedTransaction: payload });
    await cycle(signer());
    expect(broadcastsOf(id)).toEqual([]);
    expect(reportOf(id)).toEqual([expect.stringMatching(/^TX_MALFORMED: .*the key "to" appears twice/)]);
  });

  it('a pending transaction the approver cannot be sent (nested 100,000 deep) is reported, not skipped silently', async () => {
    api.clearQueue();
    const approver = await FakeApprover.start();
    const a = new ExternalApprover({ externalUrl: approver.url, method: 'POST', timeoutMs: 2000 });
    try {
      const depth = 100_000;
      const id = newPendingId();
      // An extra field the API adds: JSON.parse reads it, JSON.stringify cannot write it again.
      const entry = JSON.stringify({
        id,
        chain: 'ETH',
        hashes: [eth],
        serializedTransaction: ethTx({ to: A, value: '1' }),
      });
      api.queueText('ETH', `${entry.slice(0, -1)},"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      approver.approved.add(id);
      await cycle(signer({ approver: a }));
      expect(broadcastsOf(id)).toEqual([]);
      expect(reportOf(id)).toEqual([expect.stringMatching(/^TX_APPROVAL_UNSENDABLE: .*nested too deeply/)]);
    } finally {
      a.close();
      await approver.stop();
    }
  });
});

describe('mainnet: default deny', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let eth: string;
  let other: string;
  const signers: Signer[] = [];

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: false });
    eth = addPrivateKey(tv.vault, 'ETH', false, testKey(0x41));
    other = addPrivateKey(tv.vault, 'BSC', false, testKey(0x42));
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    for (const s of signers) s.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  it('refuses a chain and a wallet that no rule covers, naming the missing rule; {"allowContractCalls": true} covers a chain', async () => {
    const policy = parsePolicy(JSON.stringify({ chains: { ETH: { allowContractCalls: true } } }));
    const s = inProcessSigner(tv.vault, api, { testnet: false, chains: ['ETH', 'BSC'], policy });
    signers.push(s);
    const tx = () => evmPayload({ to: A, value: 1n, gas: 21000n, gasPrice: GWEI, nonce: 0 });
    const covered = api.queue({ chain: 'ETH', hashes: [eth], serializedTransaction: tx() });
    const uncovered = api.queue({ chain: 'BSC', hashes: [other], serializedTransaction: tx() });
    await cycle(s);
    expect(broadcastsOf(api, covered)).toHaveLength(1);
    expect(broadcastsOf(api, uncovered)).toEqual([]);
    expect(api.errorReports.filter((e) => e.signatureId === uncovered).map((e) => e.error)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^POLICY_VIOLATION: no policy rule covers this BSC transaction \\(mainnet denies by default\\): add chains\\.BSC, or wallets\\.${other}`,
        ),
      ),
    ]);
  });
});

function broadcastsOf(api: FakeTatumApi, id: string) {
  return api.broadcasts.filter((b) => b.signatureId === id);
}
