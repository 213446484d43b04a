/**
 * ADA test inputs shared by the unit and attack tests: keys of Tatum's SDK test mnemonic (as
 * host signers), the Rosetta operations Tatum's SDK builds for a KMS transfer
 * (cardano.sdk.tx.ts, fromUTXO with signatureId: input, recipient, change), and the fake
 * Rosetta as an AdaRosetta.
 */
import { adaEntropyFromMnemonic } from '../../src/chains/ada/kit.js';
import { adaPrivateKeyAt, adaPublicKeyOfExtended, adaRootFromEntropy, adaSign } from '../../src/chains/ada/keys.js';
import { adaAddress } from '../../src/chains/ada/address.js';
import type { AdaRosetta, AdaSigner } from '../../src/chains/ada/sign.js';
import type { FakeCardanoRosetta } from './ada-rosetta.js';

export const TATUM_MNEMONIC =
  'kit erase harsh crawl taste rebel bus ocean traffic vast undo street patrol around network deputy wage usage aware void float snake baby sister';
const root = adaRootFromEntropy(adaEntropyFromMnemonic(Buffer.from(TATUM_MNEMONIC)));
export function signerAt(i: number): AdaSigner & { key: Uint8Array } {
  const key = adaPrivateKeyAt(root, i);
  return {
    signatureId: `sid-${i}`,
    key,
    publicKey: adaPublicKeyOfExtended(key),
    sign: (m) => Promise.resolve(adaSign(key, m)),
  };
}
export const ME = signerAt(0);
export const ME_ADDR = adaAddress(ME.publicKey, true);
export const OTHER = signerAt(5);
export const OTHER_ADDR = adaAddress(OTHER.publicKey, true);
export const TO = 'addr_test1vzdts2y4k47zwypzdh36azxx0w4v8tev6m6svtz9fud0emgchuswu';
export const TXH = 'e00f31565ef36d815dbc62b33ec956cb5fe0823aaa48533f2a4368b9d49ce801';

/**
 * One 10 ADA input, the transfer and the change; `changeValue` defaults to 8.8 ADA whatever
 * `value` says (so a larger value leaves no fee: a test of that refusal).
 */
export function tatumOps(
  opts: { to?: string; value?: string; change?: string; changeValue?: string; from?: string } = {},
): unknown[] {
  const from = opts.from ?? ME_ADDR;
  return [
    {
      operation_identifier: { index: 0, network_index: 0 },
      related_operations: [],
      type: 'input',
      status: 'success',
      account: { address: from, metadata: {} },
      amount: { value: '-10000000', currency: { symbol: 'ADA', decimals: 6 } },
      coin_change: { coin_identifier: { identifier: `${TXH}:0` }, coin_action: 'coin_created' },
      metadata: {},
    },
    {
      operation_identifier: { index: 1, network_index: 0 },
      related_operations: [],
      type: 'output',
      status: 'success',
      account: { address: opts.to ?? TO, metadata: {} },
      amount: { value: opts.value ?? '1000000', currency: { symbol: 'ADA', decimals: 6 }, metadata: {} },
      metadata: {},
    },
    {
      operation_identifier: { index: 2, network_index: 1 },
      related_operations: [],
      type: 'output',
      status: 'success',
      account: { address: opts.change ?? from, metadata: {} },
      amount: { value: opts.changeValue ?? '8800000', currency: { symbol: 'ADA', decimals: 6 }, metadata: {} },
      metadata: {},
    },
  ];
}

export function rosettaOf(fake: FakeCardanoRosetta): AdaRosetta {
  return {
    post: (endpoint, body) => {
      const r = fake.handle('POST', `/${endpoint}`, JSON.parse(JSON.stringify(body)));
      if (r.status !== 200) return Promise.reject(new Error(JSON.stringify(r.json)));
      return Promise.resolve(r.json as Record<string, unknown>);
    },
  };
}
