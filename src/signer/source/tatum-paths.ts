/**
 * Chain codes of the Tatum KMS protocol and the API paths the daemon uses per chain
 * (spec §1, §2.4, §2.5). Pure data: the Tatum client and the fake API server in test/
 * both read this table, so they cannot drift apart.
 */

/** The Tatum API when TATUM_API_URL is not set (config's `checkconfig` and the client use this one). */
export const DEFAULT_API_URL = 'https://api.tatum.io';

/** Every chain `tatum-kms daemon` polls by default, in its default order (§1 step 1). */
export const TATUM_CHAINS = [
  'BCH',
  'VET',
  'XRP',
  'XLM',
  'ETH',
  'BTC',
  'MATIC',
  'KLAY',
  'LTC',
  'DOGE',
  'CELO',
  'BSC',
  'SOL',
  'TRON',
  'BNB',
  'FLOW',
  'XDC',
  'EGLD',
  'ONE',
  'ADA',
  'ALGO',
  'KCS',
] as const;

export type TatumChain = (typeof TATUM_CHAINS)[number];

export function isTatumChain(value: unknown): value is TatumChain {
  return typeof value === 'string' && (TATUM_CHAINS as readonly string[]).includes(value);
}

/** §2.4: `POST {BASE}{path}` with `{txData, signatureId}` after signing a blockchain transfer. */
export const BROADCAST_PATHS: Readonly<Record<TatumChain, string>> = Object.freeze({
  BTC: '/v3/bitcoin/broadcast',
  LTC: '/v3/litecoin/broadcast',
  DOGE: '/v3/dogecoin/broadcast',
  BCH: '/v3/bcash/broadcast',
  ETH: '/v3/ethereum/broadcast',
  BSC: '/v3/bsc/broadcast',
  MATIC: '/v3/polygon/broadcast',
  KLAY: '/v3/klaytn/broadcast',
  ONE: '/v3/one/broadcast',
  XDC: '/v3/xdc/broadcast',
  KCS: '/v3/kcs/broadcast',
  CELO: '/v3/celo/broadcast',
  VET: '/v3/vet/broadcast',
  TRON: '/v3/tron/broadcast',
  SOL: '/v3/solana/broadcast',
  XRP: '/v3/xrp/broadcast',
  XLM: '/v3/xlm/broadcast',
  ALGO: '/v3/algorand/broadcast',
  EGLD: '/v3/egld/broadcast',
  FLOW: '/v3/flow/broadcast',
  ADA: '/v3/ada/broadcast',
  BNB: '/v3/bnb/broadcast',
});

export function broadcastPath(chain: TatumChain): string {
  return BROADCAST_PATHS[chain];
}

/** Inverse of BROADCAST_PATHS, for servers that route by path. */
export function chainForBroadcastPath(path: string): TatumChain | undefined {
  for (const chain of TATUM_CHAINS) if (BROADCAST_PATHS[chain] === path) return chain;
  return undefined;
}

/** §2.5 off-chain (virtual account) withdrawal broadcast. */
export const OFFCHAIN_BROADCAST_PATH = '/v3/offchain/withdrawal/broadcast';

/**
 * Chains whose pending transactions with a `withdrawalId` are broadcast through §2.5;
 * every other chain uses §2.4 even when a `withdrawalId` is present.
 */
export const OFFCHAIN_BROADCAST_CHAINS: ReadonlySet<TatumChain> = new Set<TatumChain>([
  'BTC',
  'LTC',
  'DOGE',
  'BCH',
  'ETH',
  'ONE',
  'ADA',
]);

/** True when this pending transaction must be broadcast via §2.5 rather than §2.4. */
export function usesOffchainBroadcast(pending: { chain: TatumChain; withdrawalId?: string | undefined }): boolean {
  return pending.withdrawalId !== undefined && OFFCHAIN_BROADCAST_CHAINS.has(pending.chain);
}

/** §2.2 */
export function pendingPath(chain: TatumChain): string {
  return `/v3/kms/pending/${chain}`;
}

/** §2.6 */
export const ERROR_BATCH_PATH = '/v3/tatum/kms/batch';

/** §2.7: one pending transaction by id. */
export function pendingByIdPath(id: string): string {
  return `/v3/kms/${encodeURIComponent(id)}`;
}

/** KMS refuses to ask for more signature ids than this per chain and call (§2.2). */
export const MAX_SIGNATURE_IDS = 25_000;

/** Headers (§2.1, §2.8). */
export const HEADER_API_KEY = 'x-api-key';
export const HEADER_CLIENT_VERSION = 'x-ttm-kms-client-version';
export const HEADER_LATEST_VERSION = 'x-ttm-kms-latest-version';

/**
 * §2.10: the Tatum endpoints Tatum KMS's SDKs fill EVM gaps from, with the same API key.
 * The JSON-RPC proxies take the key in the path (a Tatum weakness, §7.6: hardkms never
 * shows that URL in a log or error).
 */
export const TATUM_WEB3_PATHS: Readonly<Partial<Record<TatumChain, string>>> = Object.freeze({
  ETH: '/v3/ethereum/web3/',
  BSC: '/v3/bsc/web3/',
  MATIC: '/v3/polygon/web3/',
  ONE: '/v3/one/web3/',
  XDC: '/v3/xdc/web3/',
  KCS: '/v3/kcs/web3/',
  KLAY: '/v3/blockchain/node/KLAY/',
  CELO: '/v3/blockchain/node/CELO/',
});

/** `GET {path}{address}` → the account's transaction count (an integer), for the chains Tatum asks it of. */
export const TATUM_TX_COUNT_PATHS: Readonly<Partial<Record<TatumChain, string>>> = Object.freeze({
  ETH: '/v3/ethereum/transaction/count/',
  BSC: '/v3/bsc/transaction/count/',
  XDC: '/v3/xdc/transaction/count/',
});

/** `GET` → `{slow, medium, fast, …}` gas prices in wei; Tatum KMS takes `medium` for ETH. */
export const TATUM_ETH_FEE_PATH = '/v3/blockchain/fee/ETH';
