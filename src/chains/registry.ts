import { HardkmsError, shownText } from '../errors.js';
import { bchAdapter } from './bch/derive.js';
import { evmAdapter } from './evm/derive.js';
import { tronAdapter } from './tron/derive.js';
import type { ChainAdapter, ChainCode, ChainFamily } from './types.js';
import { ed25519Spec } from './ed25519/spec.js';
import { utxoAdapter } from './utxo/derive.js';

const ADAPTERS: ReadonlyMap<ChainCode, ChainAdapter> = new Map<ChainCode, ChainAdapter>([
  ['BTC', utxoAdapter('BTC')],
  ['LTC', utxoAdapter('LTC')],
  ['DOGE', utxoAdapter('DOGE')],
  ['BCH', bchAdapter()],
  ['ETH', evmAdapter('ETH')],
  ['BSC', evmAdapter('BSC')],
  ['MATIC', evmAdapter('MATIC')],
  ['CELO', evmAdapter('CELO')],
  ['KLAY', evmAdapter('KLAY')],
  ['ONE', evmAdapter('ONE')],
  ['XDC', evmAdapter('XDC')],
  ['KCS', evmAdapter('KCS')],
  ['TRON', tronAdapter()],
  ['VET', evmAdapter('VET')],
]);

export const SUPPORTED_CHAINS: readonly ChainCode[] = Object.freeze([...ADAPTERS.keys()]);

export function isSupportedChain(chain: string): chain is ChainCode {
  return ADAPTERS.has(chain as ChainCode);
}

/** The signing family of any chain hardkms knows: HD chains by adapter, one-key ed25519 chains by spec, ADA (Cardano, chains/ada/). */
export function chainFamily(chain: string): ChainFamily {
  if (chain === 'ADA') return 'ada';
  const ed = ed25519Spec(chain);
  return ed !== undefined ? ed.family : getChainAdapter(chain).family;
}

/** Chain codes are Tatum's, uppercase and exact, as they appear in wallet entries and pending transactions. */
export function getChainAdapter(chain: string): ChainAdapter {
  const adapter = ADAPTERS.get(chain as ChainCode);
  if (!adapter) {
    // The code comes from user input or the network: keep it short and printable in logs.
    const shown = shownText(chain, 24);
    // "Unsupported blockchain." is Tatum KMS's own text, which scripts match on.
    throw new HardkmsError('UNSUPPORTED_CHAIN', `Unsupported chain '${shown}'. Unsupported blockchain.`, {
      hint: `Supported: ${SUPPORTED_CHAINS.join(', ')}.`,
    });
  }
  return adapter;
}
