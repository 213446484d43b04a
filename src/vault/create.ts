import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { HardkmsError } from '../errors.js';
import { AuditLog, auditPublicKeyPath } from '../audit/log.js';
import type { AuditEvent } from '../audit/record.js';
import type { ForwardTarget } from '../audit/forward.js';
import { keyFingerprint } from '../audit/verify.js';
import { Token, type OpenTokenOptions } from '../hsm/token.js';
import { storeForAudit } from './audit-binding.js';
import { refuseSharedToken } from './bound-token.js';
import { defaultLogFor, storedAuditLog, type TokenBinding, type VaultLocation } from './facts.js';
import { encodeGatePolicy, type GatePolicyFlags } from './gate-policy.js';
import { newInnerKey } from './inner.js';
import { META } from './meta-auth.js';
import { FORMAT_VERSION } from './schema.js';
import {
  sealContext,
  STORE_KEY_BYTES,
  wipeVaultSecret,
  type SealRecord,
  type VaultSecret,
  type VaultSecretProvider,
} from './secret.js';
import { ROW_SETS_ADOPT, WalletStore } from './store.js';

/**
 * A new vault's making (`hardkms init`), before its first record: the seal, the token keys,
 * the store and its authenticated meta, the audit public key beside the log. Vault.init
 * then writes the first records.
 */

export interface InitOptions extends VaultLocation {
  token: OpenTokenOptions;
  /** The token user PIN; only init receives it from outside (HARDKMS_TOKEN_PIN or a prompt). */
  tokenPin: Buffer;
  provider: VaultSecretProvider;
  /** A testnet-only vault refuses mainnet wallets and relaxes the gate rules. */
  testnetOnly?: boolean;
  /**
   * false (what `hardkms init` passes without --share-token): refuse a token that already
   * holds another vault's keys. Left undefined by library callers that make throwaway vaults.
   */
  shareToken?: boolean;
  /**
   * What the operators explicitly allowed for mainnet (init flags; authenticated meta). A
   * password-sealed vault must be testnetOnly unless passwordOnMainnet is set.
   */
  gatePolicy?: Partial<GatePolicyFlags>;
  actor?: string;
  /** Off-host sink for every record, bound at init. */
  auditForward?: ForwardTarget | undefined;
}

/** What an unsealed vault is made of, whether init made it or an unseal opened it. */
export interface VaultParts {
  store: WalletStore;
  token: Token;
  audit: AuditLog;
  vaultId: string;
  binding: TokenBinding;
  testnetOnly: boolean;
  secret: VaultSecret;
  inner: Buffer | undefined;
}

/** What init made; the vault is these parts, and its records held until the audit key signs. */
interface CreatedVault extends VaultParts {
  inner: Buffer;
  seal: SealRecord;
  /** The ceremony's records (the provider's, while sealing), appended once the log signs. */
  pending: AuditEvent[];
}

/** Nothing is left behind by a failure: the secret wiped, the store closed, the token logged out. */
export async function createVault(options: InitOptions): Promise<CreatedVault> {
  // Checked first so that nothing (token keys included) is created for a refused init.
  WalletStore.refuseExisting(options.path);
  refusePasswordOnMainnet(options.provider.name, options);
  const token = Token.open(options.token);
  let store: WalletStore | undefined;
  const secret: VaultSecret = { storeKey: randomBytes(STORE_KEY_BYTES), tokenPin: Buffer.from(options.tokenPin) };
  try {
    token.login(secret.tokenPin);
    if (options.shareToken === false) refuseSharedToken(token);
    const vaultId = randomUUID();
    const auditLogPath = options.auditLogPath ?? defaultLogFor(options.path);
    const pending: AuditEvent[] = [];
    const ctx = sealContext(vaultId, !options.testnetOnly, (e) => pending.push(e));
    // Seal first: if the operators' ceremony fails, no store and no token keys exist.
    const seal = await options.provider.seal(secret, ctx);
    refusePasswordOnMainnet(seal.provider, options);
    const keys = token.generateVaultKeys(vaultId);
    const auditPem = token.auditPublicKeyPem(keys.auditKeyId);
    const binding: TokenBinding = {
      modulePath: token.info.modulePath,
      label: token.info.label,
      serial: token.info.serial,
      profile: token.info.profile,
      keys,
      auditLog: storedAuditLog(options.path, auditLogPath),
      auditKeyFingerprint: keyFingerprint(auditPem),
      ...(options.auditForward ? { auditForward: options.auditForward } : {}),
    };
    store = WalletStore.create(options.path);
    const s = store;
    s.unlock(secret.storeKey, vaultId);
    const inner = newInnerKey(secret.storeKey, vaultId);
    const gatePolicy = encodeGatePolicy(options.gatePolicy ?? {});
    s.transaction(() => {
      s.initAuthenticatedMeta({
        [META.innerKey]: inner.sealed,
        [META.vaultId]: vaultId,
        [META.created]: new Date().toISOString(),
        [META.format]: String(FORMAT_VERSION),
        [META.token]: JSON.stringify(binding),
        [META.seal]: JSON.stringify(seal),
        [META.testnetOnly]: options.testnetOnly ? 'true' : 'false',
        [META.gatePolicy]: gatePolicy,
        [META.rowSetsBound]: '1',
      });
      s.rebuildRowSets();
      s.deleteMeta(ROW_SETS_ADOPT);
    });
    token.bindVaultKeys(keys);
    writeFileSync(auditPublicKeyPath(auditLogPath), auditPem, { mode: 0o644 });
    const actor = options.actor ?? 'cli:init';
    return {
      store: s,
      token,
      audit: new AuditLog(auditLogPath, { store: storeForAudit(s, binding.auditForward, auditLogPath), actor }),
      vaultId,
      binding,
      testnetOnly: !!options.testnetOnly,
      secret,
      inner: inner.key,
      seal,
      pending,
    };
  } catch (e) {
    wipeVaultSecret(secret);
    store?.close();
    token.close();
    throw e;
  }
}

/** A password alone does not guard mainnet keys unless the operators said so, loudly, at init. */
function refusePasswordOnMainnet(provider: string, options: InitOptions): void {
  if (provider !== 'password' || options.testnetOnly || options.gatePolicy?.passwordOnMainnet === true) return;
  throw new HardkmsError(
    'VAULT_PASSWORD_MAINNET',
    'A vault sealed by a password only is testnet-only: it cannot be created for mainnet wallets.',
    {
      hint: 'Use a YubiKey gate for mainnet (hardkms init --yubikeys N --threshold M), pass --testnet, or, knowingly and audited, --allow-password-mainnet.',
    },
  );
}
