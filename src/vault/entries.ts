/**
 * A wallet entry as hardkms stores it: Tatum's entry (§5.2 of the protocol spec) with the
 * secret replaced by a token ciphertext. `signatureId` is Tatum's id and never changes, so
 * the Tatum API keeps referring to the same wallets after a migration.
 */
export type EntryKind = 'mnemonic' | 'privateKey' | 'secret';

export interface PublicData {
  /** Extended public key at the change level (HD wallets). */
  xpub?: string;
  /** Address, where the chain's wallets have one fixed address. */
  address?: string;
  /** 33-byte compressed secp256k1 public key in hex (private-key wallets); 32 bytes for ed25519 keys. */
  publicKey?: string;
  /** 'ed25519' for the seed of an ed25519 key (XLM, ALGO); absent = secp256k1. */
  keyType?: 'ed25519';
  /**
   * Generated one-key wallets, exported as Tatum's generated wallet `{address, <field>}`:
   * XLM/ALGO/XRP `secret`, SOL `privateKey`. Absent: a stored private key (`{privateKey}`).
   */
  secretField?: 'secret' | 'privateKey';
  /**
   * How a WIF key was written when it was not this network's compressed WIF (Tatum stores
   * hold uncompressed WIF and WIF of the other network): exported the same way.
   */
  wif?: { version: number; compressed: boolean };
}

export interface NewWalletEntry {
  signatureId: string;
  chain: string;
  testnet: boolean;
  kind: EntryKind;
  publicData: PublicData;
  /**
   * privateKey: the key wrapped by the token's wrap key (C_WrapKey).
   * mnemonic / secret: iv ‖ ciphertext ‖ tag from the token's data key (AES-GCM).
   */
  wrappedSecret: Buffer;
  /** The mechanism that produced wrappedSecret, e.g. CKM_AES_KEY_WRAP_PAD or CKM_AES_GCM. */
  mechanism: string;
}

export interface WalletEntry extends NewWalletEntry {
  created: string;
}

/** AAD that binds a data-key ciphertext to the entry it belongs to. */
export function entryAad(e: { signatureId: string; chain: string; kind: EntryKind }): Buffer {
  return Buffer.from(`hardkms entry v1|${e.signatureId}|${e.chain}|${e.kind}`, 'utf8');
}
