/**
 * Cardano addresses through @emurgo/cardano-serialization-lib (the ecosystem's codec, public
 * data only): the enterprise address of a key, as Tatum's Rosetta `construction/derive`
 * gives it for `metadata: {}`, and the parsing of any address a transaction may pay
 * (Shelley bech32 `addr…`/`addr_test…`, Byron base58) with its network checked.
 */
import { createRequire } from 'node:module';
import type * as CslType from '@emurgo/cardano-serialization-lib-nodejs';
import { InputError } from '../../errors.js';
import { adaKeyHash } from './keys.js';
import { kindOf } from '../../value-kind.js';

const require = createRequire(import.meta.url);
let cslModule: typeof CslType | undefined;
/** The library is 4 MB of WebAssembly: loaded on the first ADA address or transaction only. */
export const csl = (): typeof CslType =>
  (cslModule ??= require('@emurgo/cardano-serialization-lib-nodejs') as typeof CslType);

/** Shelley network ids: 1 mainnet, 0 every testnet (preprod, preview). */
function adaNetworkId(testnet: boolean): number {
  return testnet ? 0 : 1;
}

/** The enterprise address (header 0x61 mainnet, 0x60 testnet: payment key hash, no stake part) of an ed25519 public key. */
export function adaAddress(publicKey: Uint8Array, testnet: boolean): string {
  const C = csl();
  const hash = C.Ed25519KeyHash.from_bytes(adaKeyHash(publicKey));
  const cred = C.Credential.from_keyhash(hash);
  const ent = C.EnterpriseAddress.new(adaNetworkId(testnet), cred);
  const addr = ent.to_address();
  try {
    return addr.to_bech32(undefined);
  } finally {
    addr.free();
    ent.free();
    cred.free();
    hash.free();
  }
}

interface ParsedAdaAddress {
  /** The address as given (bech32 or base58). */
  text: string;
  /** Its binary form, as it appears in a transaction output. */
  bytes: Uint8Array;
}

/**
 * Any Cardano address a transaction may name, in its binary form; InputError naming `what`
 * when it is not an address or is of the other network (a testnet daemon never pays a
 * mainnet address, nor the reverse).
 */
export function parseAdaAddress(text: string, testnet: boolean, what: string): ParsedAdaAddress {
  const C = csl();
  const t = text.trim();
  let addr: CslType.Address;
  try {
    addr = /^addr(_test)?1[02-9ac-hj-np-z]+$/.test(t)
      ? C.Address.from_bech32(t)
      : C.ByronAddress.from_base58(t).to_address();
  } catch {
    throw new InputError(
      // Not quoted: the text is a payload's, and only a parsed address carries no free text.
      `${what} is not a Cardano address (bech32 addr…/addr_test… or Byron base58), got ${kindOf(t)}.`,
    );
  }
  try {
    let network: number;
    try {
      network = addr.network_id();
    } catch {
      throw new InputError(`${what} '${t.slice(0, 110)}' has no network id.`);
    }
    if (network !== adaNetworkId(testnet)) {
      throw new InputError(
        `${what} '${t.slice(0, 110)}' is a ${network === 1 ? 'mainnet' : 'testnet'} address, but this daemon signs ${testnet ? 'testnet' : 'mainnet'} transactions.`,
      );
    }
    return { text: t, bytes: addr.to_bytes() };
  } finally {
    addr.free();
  }
}
