/**
 * Attacks through the signing policy file (`--policy FILE`) itself: someone who can edit the
 * file, or makes the daemon read the wrong one, and counts on it being read differently from
 * how it looks, or on the error repeating what the file holds. Each attack fails on the code
 * before issue 15 item 3's policy schema (checked once, see the report of that change):
 * - two entries naming one token contract in different letter case were both accepted and
 *   the later one's limit silently applied (a transfer 10,000 times the visible limit was signed);
 * - a file that is not JSON had its first characters quoted in the error (V8's JSON.parse
 *   message), so `--policy` pointed at the approver's key file printed the key's beginning;
 * - a field name with terminal control characters was printed raw in the error.
 * Now each is refused before anything is opened: exit 2, the file named with the JSON path,
 * no value of the file repeated, the vault and its audit log unchanged, nothing signed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parsePolicy, type Policy } from '../../src/signer/pipeline/policy.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, explain, runDaemon, testKey } from '../e2e/support.js';
import { cycle, inProcessSigner, type Signer } from './support.js';

const A = '0x1111111111111111111111111111111111111111';
const TOKEN_CHECKSUMMED = '0xdAC17F958D2ee523a2206206994597C13D831ec7';
const GWEI = 10n ** 9n;
const word = (hex: string) => hex.replace(/^0x/, '').padStart(64, '0');
const transferData = (to: string, amount: bigint) => `0xa9059cbb${word(to)}${word(amount.toString(16))}`;

/** What `parsePolicy` made of the text: the policy, or the error it refused it with. */
function load(text: string, source = 'policy.json'): { policy?: Policy; error?: unknown } {
  try {
    return { policy: parsePolicy(text, source) };
  } catch (error) {
    return { error };
  }
}

describe('attacks through the signing policy file', () => {
  let tv: TestVault;
  let api: FakeTatumApi;
  let eth: string;
  let nonce = 0;
  const signers: Signer[] = [];

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: false });
    eth = addPrivateKey(tv.vault, 'ETH', true, testKey(0x51));
    api = await FakeTatumApi.start();
  });
  afterAll(async () => {
    for (const s of signers) s.close();
    await api?.stop();
    tv?.vault.seal('test end');
  });

  it('a second entry for the same token contract in another letter case does not replace the visible limit', async () => {
    // The reviewer sees the checksummed entry's limit of 100; an edit adds the same contract
    // in lowercase further down. Addresses compare case-insensitively, so both are one rule.
    const text = [
      '{ "chains": { "ETH": { "tokens": {',
      `  "${TOKEN_CHECKSUMMED}": { "maxAmount": "100" },`,
      `  "${TOKEN_CHECKSUMMED.toLowerCase()}": { "maxAmount": "1000000" }`,
      '} } } }',
    ].join('\n');
    const { policy, error } = load(text);
    if (policy !== undefined) {
      api.clearQueue();
      const id = api.queue({
        chain: 'ETH',
        hashes: [eth],
        serializedTransaction: JSON.stringify({
          to: TOKEN_CHECKSUMMED,
          data: transferData(A, 1_000_000n),
          value: '0',
          gas: 60000,
          gasPrice: GWEI.toString(),
          nonce: nonce++,
        }),
      });
      const s = inProcessSigner(tv.vault, api, { testnet: true, chains: ['ETH'], policy });
      signers.push(s);
      await cycle(s);
      const signed = api.broadcasts.filter((b) => b.signatureId === id);
      expect(signed, 'a transfer of 1,000,000 was signed under a visible limit of 100').toEqual([]);
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toBe(
      `policy.json: chains.ETH.tokens["${TOKEN_CHECKSUMMED.toLowerCase()}"]: the same token as "${TOKEN_CHECKSUMMED}" above (one rule each: write it once).`,
    );
    // The same for a contract's selector list, and XDC's two spellings of one address.
    expect(
      load(
        JSON.stringify({
          chains: {
            ETH: { contracts: { [TOKEN_CHECKSUMMED]: [], [TOKEN_CHECKSUMMED.toLowerCase()]: ['0xa9059cbb'] } },
          },
        }),
      ).error,
    ).toBeInstanceOf(InputError);
    expect(
      load(
        JSON.stringify({
          chains: { XDC: { allowedDestinations: [A], tokens: { [`xdc${A.slice(2)}`]: {}, [A]: {} } } },
        }),
      ).error,
    ).toBeInstanceOf(InputError);
  });

  it('a file that is not JSON is not quoted in the error (--policy given the approver key file)', async () => {
    const secret = 'd3adb33f'.repeat(8);
    const { error } = load(`${secret}\n`, '/etc/hardkms/approver.key');
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    expect(e.message).toMatch(/^\/etc\/hardkms\/approver\.key is not valid JSON \(line 1, column 1\)/);
    for (const text of [e.message, e.hint ?? '']) expect(text).not.toMatch(/d3adb33f|d3adb|"d3/);
    // A JSON error further in names its place, still without the text around it.
    const late = load('{"chains": {"ETH": {"maxAmount": "1",}}}').error as Error;
    expect(late.message).toMatch(/^policy\.json is not valid JSON \(line 1, column 38\)/);
    expect(late.message).not.toMatch(/maxAmount/);
  });

  it('a field name with control characters is not printed raw', () => {
    const key = 'E\u001b[2J\u001b[1;1H\nINFO all transactions approved';
    for (const text of [
      JSON.stringify({ chains: { [key]: {} } }),
      JSON.stringify({ chains: { ETH: { [key]: 1 } } }),
      JSON.stringify({ [key]: {} }),
    ]) {
      const { error } = load(text);
      expect(error).toBeInstanceOf(InputError);
      // eslint-disable-next-line no-control-regex -- the point: no control character in the message
      expect((error as Error).message).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect((error as Error).message).toContain(JSON.stringify(key));
    }
  });

  it('hardkms daemon with such a file exits 2 before opening the vault: nothing signed, the vault and audit log unchanged', async () => {
    api.clearQueue();
    const id = api.queue({
      chain: 'ETH',
      hashes: [eth],
      serializedTransaction: JSON.stringify({
        to: A,
        value: '1',
        gas: 21000,
        gasPrice: GWEI.toString(),
        nonce: nonce++,
      }),
    });
    const secret = 'c0ffee11'.repeat(8);
    const keyFile = join(tv.dir, 'approver.key');
    writeFileSync(keyFile, `${secret}\n`, { mode: 0o600 });
    const dup = join(tv.dir, 'dup-policy.json');
    writeFileSync(
      dup,
      JSON.stringify({
        chains: { ETH: { tokens: { [TOKEN_CHECKSUMMED]: {}, [TOKEN_CHECKSUMMED.toLowerCase()]: {} } } },
      }),
    );
    // The daemon is another process: this one lets go of the store first.
    for (const s of signers) s.close();
    tv.vault.seal('test: the daemon runs next');
    const auditPath = join(tv.dir, 'audit.log');
    const before = { store: readFileSync(tv.path), audit: readFileSync(auditPath) };
    const runs = [];
    for (const file of [keyFile, dup])
      runs.push({ file, r: await runDaemon(tv, api, ['--testnet', '--runOnce', '--policy', file]) });
    expect(
      api.broadcasts.filter((b) => b.signatureId === id),
      'the daemon signed under the tampered policy',
    ).toEqual([]);
    expect(readFileSync(tv.path).equals(before.store), 'wallet.dat changed').toBe(true);
    expect(readFileSync(auditPath).equals(before.audit), 'audit.log changed').toBe(true);
    for (const { file, r } of runs) {
      expect(r.code, explain(r)).toBe(2);
      expect(r.error().code).toBe('INVALID_INPUT');
      expect(r.error().error).toContain(file);
      expect(r.error().hint).toMatch(/Signing policy/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/c0ffee|at .*\.js:\d+/);
    }
  });
});
