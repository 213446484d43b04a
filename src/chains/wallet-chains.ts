/**
 * The chains with managed wallets, by code only: the HD (secp256k1) chains of registry.ts,
 * then the one-key ed25519 chains of ed25519/spec.ts, then ADA (ada/kit.ts). Kept apart from the adapters so that
 * `--help` and `checkconfig` can name them without loading every chain library; kit.ts
 * refuses to load when this list and the adapters disagree.
 */
export const WALLET_CHAINS: readonly string[] = Object.freeze([
  'BTC',
  'LTC',
  'DOGE',
  'BCH',
  'ETH',
  'BSC',
  'MATIC',
  'CELO',
  'KLAY',
  'ONE',
  'XDC',
  'KCS',
  'TRON',
  'VET',
  'XLM',
  'ALGO',
  'XRP',
  'SOL',
  'EGLD',
  'ADA',
]);
