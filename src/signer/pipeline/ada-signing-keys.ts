/**
 * ADA keys for the daemon (spec §3.1 rule 8): on-chain, every resolved wallet's key; for a
 * virtual-account withdrawal, one key per `signatures[]` entry, derived from that wallet's
 * mnemonic at its index. ADA wallets are mnemonics (hardkms does not hold ADA private keys,
 * chains/ada/kit.ts), so every key is a mnemonic child: its public key comes from the stored
 * xpub (BIP32-Ed25519 soft derivation, no secret touched), and the key itself is derived on
 * the host at the first signature, checked against that public key, and wiped by the caller.
 */
import { HardkmsError } from '../../errors.js';
import { adaKit } from '../../chains/ada/kit.js';
import { adaPrivateKeyAt, adaPublicKeyFromXpub, adaPublicKeyOfExtended, adaSign } from '../../chains/ada/keys.js';
import type { AdaSigner } from '../../chains/ada/sign.js';
import { bytesEqual } from '../../chains/decoded.js';
import type { WalletEntry } from '../../vault/entries.js';
import type { Vault } from '../../vault/vault.js';
import { decryptSecret } from '../../vault/entry-secrets.js';
import { derivedKeyMismatch } from './signing-key-errors.js';
import { hostKeySigner, withMnemonicSeed } from './host-key.js';

interface AdaKeyRef {
  entry: WalletEntry;
  index: number;
  publicKey: Uint8Array;
}

const NOT_RESOLVED = 'TX_KEY_NOT_RESOLVED';

/**
 * The keys of an ADA pending transaction. `fromHashes` are the wallets of `hashes`, which sign
 * only when they hold a key (Tatum: `privateKey`), so a mnemonic wallet needs its
 * signatures[{id, index}] entry; `offchain` uses signatures[] alone, as Tatum does.
 */
export function adaRefs(
  chain: string,
  fromHashes: readonly WalletEntry[],
  fromSignatures: readonly { entry: WalletEntry; index: number | undefined }[],
  offchain: boolean,
): AdaKeyRef[] {
  const refs: AdaKeyRef[] = [];
  const add = (entry: WalletEntry, index: number | undefined): void => {
    if (entry.chain !== chain) {
      throw new HardkmsError(
        NOT_RESOLVED,
        `wallet ${entry.signatureId} is a ${entry.chain} wallet; it does not sign ${chain} transactions`,
        {
          hint: 'The pending transaction names a wallet of another chain.',
        },
      );
    }
    const xpub = entry.publicData.xpub;
    if (entry.kind !== 'mnemonic' || xpub === undefined) {
      throw new HardkmsError(
        NOT_RESOLVED,
        `wallet ${entry.signatureId} (ADA, ${entry.kind}) is not an ADA mnemonic wallet; hardkms signs ADA with mnemonic wallets only`,
        {
          hint: 'Store the wallet with storemanagedwallet ADA and name it in signatures[{id, index}].',
        },
      );
    }
    if (index === undefined) return;
    const publicKey = adaPublicKeyFromXpub(xpub, index);
    if (!refs.some((r) => bytesEqual(r.publicKey, publicKey))) refs.push({ entry, index, publicKey });
  };
  if (!offchain) for (const e of fromHashes) if (e.kind !== 'mnemonic') add(e, undefined);
  for (const s of fromSignatures) add(s.entry, s.index);
  return refs;
}

/** An ADA signer for one key: derived on the host at the first signature, kept until wipe(). */
interface WipeableAdaSigner extends AdaSigner {
  wipe(): void;
}

export function adaSignerForRef(vault: Vault, ref: AdaKeyRef): WipeableAdaSigner {
  const { entry, index } = ref;
  return hostKeySigner(entry.signatureId, ref.publicKey, {
    derive: () =>
      withMnemonicSeed(decryptSecret(vault, entry), adaKit().mnemonicToSeed, (root) => adaPrivateKeyAt(root, index)),
    publicKeyOf: (k) => adaPublicKeyOfExtended(k),
    mismatch: () => derivedKeyMismatch(entry.signatureId, index),
    sign: (k, message) => adaSign(k, message),
    zero: (k) => k.fill(0),
  });
}
