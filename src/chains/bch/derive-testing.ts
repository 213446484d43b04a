import { InputError } from '../../errors.js';
import { cashAddrPrefix } from '../networks.js';
import { cashaddr } from './derive.js';

/**
 * Decodes a CashAddr (with or without its prefix) for the given network. Returns the
 * address type and the 20-byte hash; the tests check derived addresses with it (the signer reads no address).
 */
export function decodeCashAddress(address: string, testnet: boolean): { type: 'P2PKH' | 'P2SH'; hash: Uint8Array } {
  const prefix = cashAddrPrefix(testnet);
  const full = address.includes(':') ? address : `${prefix}:${address}`;
  let decoded: { prefix: string; type: string; hash: Uint8Array };
  try {
    decoded = cashaddr().decode(full);
  } catch {
    throw new InputError(
      `'${address}' is not a valid CashAddr address.`,
      `Use a ${prefix}:q… or ${prefix}:p… address.`,
    );
  }
  if (decoded.prefix !== prefix) {
    throw new InputError(
      `'${address}' is a ${decoded.prefix} address, expected ${prefix}.`,
      'Check mainnet vs testnet.',
    );
  }
  if ((decoded.type !== 'P2PKH' && decoded.type !== 'P2SH') || decoded.hash.length !== 20) {
    throw new InputError(`'${address}' is not a 20-byte P2PKH or P2SH CashAddr address.`);
  }
  return { type: decoded.type, hash: decoded.hash };
}
