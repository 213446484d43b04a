import type { AuditEvent } from '../audit/record.js';
import type { AuditEventName } from '../audit/events.js';
import { HardkmsError } from '../errors.js';

/**
 * The vault secret: the only thing that opens a vault. `storeKey` authenticates the rows
 * of wallet.dat (and keys everything else the store derives); `tokenPin` logs in to the
 * HSM token that holds the wrap, data and audit keys. It exists in clear only in the
 * memory of an unsealed process and is wiped by `wipeVaultSecret`.
 */
export interface VaultSecret {
  storeKey: Buffer; // 32 bytes
  tokenPin: Buffer; // UTF-8 bytes of the user PIN
}

export const STORE_KEY_BYTES = 32;

/** Serialises the secret for sealing: storeKey ‖ pin. The caller wipes the result. */
export function encodeVaultSecret(secret: VaultSecret): Buffer {
  if (secret.storeKey.length !== STORE_KEY_BYTES) {
    throw new HardkmsError('VAULT_SECRET_INVALID', 'The vault secret has a store key of the wrong length.');
  }
  return Buffer.concat([secret.storeKey, secret.tokenPin]);
}

/** Inverse of encodeVaultSecret; copies, so the caller may wipe `bytes` right after. */
export function decodeVaultSecret(bytes: Uint8Array): VaultSecret {
  if (bytes.length <= STORE_KEY_BYTES) {
    throw new HardkmsError('VAULT_SECRET_INVALID', 'The unsealed vault secret is malformed.');
  }
  return {
    storeKey: Buffer.from(bytes.subarray(0, STORE_KEY_BYTES)),
    tokenPin: Buffer.from(bytes.subarray(STORE_KEY_BYTES)),
  };
}

export function wipeVaultSecret(secret: VaultSecret | undefined): void {
  if (!secret) return;
  secret.storeKey.fill(0);
  secret.tokenPin.fill(0);
}

/**
 * What a provider stores in wallet.dat to be able to unseal later. It is public data:
 * a KDF's salt and parameters, sealed shares, challenges. `provider` selects the
 * implementation that can read it back.
 */
export interface SealRecord {
  provider: string;
  [field: string]: unknown;
}

/** Context handed to providers: lets them bind ciphertexts to this vault and audit. */
export interface SealContext {
  /** Random id of the vault, fixed at init; bind every ciphertext to it (AAD / HKDF info). */
  vaultId: string;
  /** Whether the vault holds or may hold mainnet wallets (gate rules differ). */
  mainnet: boolean;
  /** Appends an audit record; providers report attempts, drivers and credentials here. */
  audit(event: AuditEventName, result: 'ok' | 'fail', details?: Record<string, unknown>): void;
}

/**
 * The seam between the vault and whatever releases its secret (HashiCorp Vault calls
 * this the seal). The password provider lives in vault/; the YubiKey gate implements the
 * same interface in gate/. A provider never stores the secret, only a SealRecord.
 */
export interface VaultSecretProvider {
  readonly name: string;
  seal(secret: VaultSecret, ctx: SealContext): Promise<SealRecord>;
  unseal(record: SealRecord, ctx: SealContext): Promise<VaultSecret>;
  /**
   * A re-sealed record left by the last successful unseal (the YubiKey gate's fresh
   * challenges), same secret. The vault commits it only after authenticating the record
   * the unseal started from, and only if that record is still current. Taken once.
   */
  resealAfterUnseal?(): { record: SealRecord; event: AuditEventName; details: Record<string, unknown> } | undefined;
}

/** What a seal provider sees of the vault: its id and network, and where its records go (each about the vault). */
export function sealContext(vaultId: string, mainnet: boolean, record: (event: AuditEvent) => void): SealContext {
  return {
    vaultId,
    mainnet,
    audit: (event, result, details) => record({ event, result, subject: vaultId, ...(details ? { details } : {}) }),
  };
}
