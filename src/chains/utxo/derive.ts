import { hash160 } from 'bitcoinjs-lib/src/crypto';
import { p2pkh as p2pkhPayment } from 'bitcoinjs-lib/src/payments/p2pkh';
import { p2wpkh as p2wpkhPayment } from 'bitcoinjs-lib/src/payments/p2wpkh';
import type { ChainAdapter } from '../types.js';
import {
  checkCompressedPublicKey,
  checkIndex,
  childPublicKey,
  decodeWif,
  decodeWifAnyForm,
  encodeWif,
  encodeWifForm,
  parseXpub,
  privateKeyAtPath,
  xpubAtPath,
} from '../keys.js';
import { uncompressedPublicKey } from '../digest-signer.js';
import { changeLevelPath, TESTNET_COIN_TYPE, utxoBip32Versions, utxoNetwork } from '../networks.js';

type UtxoFamilyChain = 'BTC' | 'LTC' | 'DOGE';

const COIN_TYPE: Record<UtxoFamilyChain, number> = { BTC: 0, LTC: 2, DOGE: 3 };

function netName(testnet: boolean): string {
  return testnet ? 'testnet' : 'mainnet';
}

/**
 * BTC, LTC and DOGE as Tatum derives them: xpub at the change level, WIF keys, and
 * addresses that differ by origin — BTC xpub children are P2WPKH (tatum-js since
 * PLT-108), BTC private-key wallets and all LTC/DOGE addresses are P2PKH.
 */
export function utxoAdapter(chain: UtxoFamilyChain): ChainAdapter {
  const p2pkh = (pub33: Uint8Array, testnet: boolean): string => {
    checkCompressedPublicKey(pub33);
    const network = utxoNetwork(chain, testnet);
    return p2pkhPayment({ hash: hash160(pub33), network }).address!;
  };
  const p2wpkh = (pub33: Uint8Array, testnet: boolean): string => {
    checkCompressedPublicKey(pub33);
    return p2wpkhPayment({ pubkey: pub33, network: utxoNetwork(chain, testnet) }).address!;
  };
  const path = (testnet: boolean) => changeLevelPath(testnet ? TESTNET_COIN_TYPE : COIN_TYPE[chain]);

  return {
    chain,
    family: 'utxo',
    derivationPath: path,
    xpubFromSeed: (seed, testnet) => xpubAtPath(seed, path(testnet), utxoBip32Versions(chain, testnet)),
    addressFromXpub(xpub, index, testnet) {
      checkIndex(index);
      const node = parseXpub(xpub, utxoBip32Versions(chain, testnet), `${chain} ${netName(testnet)}`);
      const pub = childPublicKey(node, index);
      return chain === 'BTC' ? p2wpkh(pub, testnet) : p2pkh(pub, testnet);
    },
    privateKeyFromSeed(seed, index, testnet) {
      checkIndex(index);
      return privateKeyAtPath(seed, `${path(testnet)}/${index}`, utxoBip32Versions(chain, testnet));
    },
    formatPrivateKey: (raw, testnet) => encodeWif(raw, utxoNetwork(chain, testnet).wif),
    parsePrivateKey: (text, testnet) =>
      decodeWif(text, utxoNetwork(chain, testnet).wif, `${chain} ${netName(testnet)}`),
    parseWifAsTatum(text, testnet) {
      const own = utxoNetwork(chain, testnet).wif;
      const { key, form } = decodeWifAnyForm(text, [own, utxoNetwork(chain, !testnet).wif], chain);
      return form.version === own && form.compressed ? { key } : { key, form, otherNetwork: form.version !== own };
    },
    formatWif: (raw, form) => encodeWifForm(raw, form),
    uncompressedAddress(pub33, testnet) {
      checkCompressedPublicKey(pub33);
      return p2pkhPayment({
        hash: hash160(uncompressedPublicKey(pub33)),
        network: utxoNetwork(chain, testnet),
      }).address!;
    },
    addressFromPublicKey: p2pkh,
    addressesFromPublicKey: (pub33, testnet) =>
      chain === 'BTC' ? [p2pkh(pub33, testnet), p2wpkh(pub33, testnet)] : [p2pkh(pub33, testnet)],
  };
}
