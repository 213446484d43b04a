import type { ChainKit } from '../vault/tatum-wallets.js';
import { publicKeyFromPrivateKey } from './keys.js';
import { generateMnemonic, mnemonicToSeed, validateMnemonic, validateTypedMnemonic } from './mnemonic.js';
import { getChainAdapter, isSupportedChain, SUPPORTED_CHAINS } from './registry.js';
import { ED25519_CHAINS, ed25519Spec, isEd25519Chain, type Ed25519ChainSpec } from './ed25519/spec.js';
import { ed25519 } from '@noble/curves/ed25519';
import { InputError } from '../errors.js';
import { WALLET_CHAINS } from './wallet-chains.js';
import { adaKit } from './ada/kit.js';

export { WALLET_CHAINS };

/** BIP-39 mnemonic wallets, as every HD chain and SOL/EGLD have them. */
const BIP39_WALLETS = {
  generateMnemonic: (entropy: Uint8Array) => generateMnemonic(entropy),
  requireMnemonicWallets: () => undefined,
  validateMnemonic: (m: Uint8Array) => validateMnemonic(m),
  validateTypedMnemonic: (m: Uint8Array) => validateTypedMnemonic(m),
  mnemonicToSeed: (m: Uint8Array) => mnemonicToSeed(m),
};

/** One frozen kit per chain: export and import-legacy ask for a kit per entry (tens of thousands). */
const KITS = new Map<string, ChainKit>();

/** Everything the managed-wallet operations need from the chain layer, for one chain. */
export function chainKit(chain: string): ChainKit {
  let kit = KITS.get(chain);
  if (kit === undefined) {
    kit = Object.freeze(newChainKit(chain));
    KITS.set(chain, kit);
  }
  return kit;
}

function newChainKit(chain: string): ChainKit {
  if (chain === 'ADA') return adaKit();
  const ed = ed25519Spec(chain);
  if (ed !== undefined) return ed25519Kit(ed);
  const adapter = getChainAdapter(chain);
  return {
    // The adapter is the kit's ChainKeys (closures, no `this`): the keys and addresses as Tatum derives them.
    ...adapter,
    // addressesFromPublicKey lists the private-key form first and the xpub form last (BTC: P2PKH, P2WPKH).
    xpubAddressFromPublicKey: (pub, testnet) =>
      adapter.addressesFromPublicKey(pub, testnet).at(-1) ?? adapter.addressFromPublicKey(pub, testnet),
    publicKeyFromPrivateKey: (raw) => publicKeyFromPrivateKey(raw),
    ...BIP39_WALLETS,
  };
}

/** The kit for a stored entry's chain, or undefined for chains kept only for export (SOL, XRP, …). */
export function chainKitIfSupported(chain: string): ChainKit | undefined {
  return isSupportedChain(chain) || isEd25519Chain(chain) || chain === 'ADA' ? chainKit(chain) : undefined;
}

// Every chain with managed wallets: the HD (secp256k1) chains, then the one-key ed25519 chains.
// wallet-chains.ts lists them without loading the adapters; a chain added to one but not the other fails here, at load.
if ([...SUPPORTED_CHAINS, ...ED25519_CHAINS, 'ADA'].join() !== WALLET_CHAINS.join()) {
  throw new Error(
    `src/chains/wallet-chains.ts lists ${WALLET_CHAINS.join(',')} but the adapters are ${[...SUPPORTED_CHAINS, ...ED25519_CHAINS, 'ADA'].join(',')}: update it.`,
  );
}

/**
 * An ed25519 chain (XLM, ALGO, XRP, SOL): key wallets are generated or imported into the
 * token; SOL also has mnemonic wallets (SLIP-0010, no xpub: every address needs the mnemonic).
 */
function ed25519Kit(spec: Ed25519ChainSpec): ChainKit {
  const noMnemonic = (): never => {
    throw new InputError(
      `${spec.chain} wallets are a single key, not a mnemonic.`,
      `Use storemanagedprivatekey ${spec.chain} to store a ${spec.chain} secret, or generatemanagedwallet ${spec.chain}.`,
    );
  };
  const noXpub = (): never => {
    throw new InputError(
      `${spec.chain} mnemonic wallets have no xpub (ed25519 derivation is hardened only): each address is derived from the mnemonic.`,
      `Use getaddress <signatureId> <index>.`,
    );
  };
  const child = spec.childSeed;
  const mnemonicOps =
    child === undefined
      ? {
          xpubFromSeed: noMnemonic,
          addressFromXpub: noMnemonic,
          privateKeyFromSeed: noMnemonic,
          generateMnemonic: noMnemonic,
          requireMnemonicWallets: noMnemonic,
          validateMnemonic: noMnemonic,
          validateTypedMnemonic: noMnemonic,
          mnemonicToSeed: noMnemonic,
        }
      : {
          xpubFromSeed: noXpub,
          addressFromXpub: noXpub,
          privateKeyFromSeed: (seed: Uint8Array, index: number, testnet: boolean) => child(seed, index, testnet),
          ...BIP39_WALLETS,
          ...(spec.mnemonicOnlyWallets ? { generatesMnemonic: true as const } : {}),
          mnemonicPublicData: (seed: Uint8Array, testnet: boolean) => {
            // Tatum's EGLD entries are the mnemonic alone; SOL's carry the address of index 0.
            if (spec.mnemonicOnlyWallets) return {};
            const k = child(seed, 0, testnet);
            try {
              return { address: spec.address(ed25519.getPublicKey(k)) };
            } finally {
              k.fill(0);
            }
          },
        };
  return {
    chain: spec.chain,
    curve: 'ed25519',
    walletSecretField: spec.walletSecretField,
    ...mnemonicOps,
    formatPrivateKey: (raw) => spec.formatSecret(raw),
    parsePrivateKey: (text) => spec.parseSecret(text),
    addressFromPublicKey: (pub) => spec.address(pub),
    xpubAddressFromPublicKey: (pub) => spec.address(pub),
    publicKeyFromPrivateKey: (raw) => (spec.publicKey ? spec.publicKey(raw) : ed25519.getPublicKey(raw)),
    ...(spec.signingKey ? { signingKey: spec.signingKey } : {}),
    ...(spec.newSecret ? { newSecret: spec.newSecret } : {}),
  };
}
