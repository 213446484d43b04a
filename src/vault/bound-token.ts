import { realpathSync } from 'node:fs';
import { HardkmsError } from '../errors.js';
import { Token, type OpenTokenOptions } from '../hsm/token.js';
import { vaultFacts, type TokenBinding, type VaultFacts, type VaultLocation } from './facts.js';
import { logInOrRollBack } from './seal-rotation.js';
import { wipeVaultSecret, type SealContext, type VaultSecret, type VaultSecretProvider } from './secret.js';
import type { WalletStore } from './store.js';

/** The vault's token: the one its authenticated binding names, and no other. */

/**
 * Opens the token the binding names (the configured module, profile or label only where
 * they agree with it, or where `rebind` lets them differ) and checks its serial.
 */
function openBoundToken(binding: TokenBinding, override: OpenTokenOptions | undefined, rebind: boolean): Token {
  if (!rebind) checkBindingOverride(binding, override);
  const token = Token.open({
    modulePath: override?.modulePath ?? binding.modulePath,
    label: override?.label ?? binding.label,
    profile: override?.profile ?? binding.profile,
  });
  if (token.info.serial === binding.serial) return token;
  const wrong = new HardkmsError(
    'HSM_WRONG_TOKEN',
    `Token '${token.info.label}' has serial ${token.info.serial}, but this vault was created with serial ${binding.serial}.`,
    {
      hint: 'Connect the token the vault was created with (or its restored backup).',
    },
  );
  token.close();
  throw wrong;
}

/**
 * At unseal, once the facts are authenticated: the bound token opened, logged in with the
 * unsealed PIN (or, when a PIN change was interrupted, the rotation rolled back and the
 * previous seal's secret logged in: seal-rotation.ts), and bound to the vault's keys. Returns
 * the secret the token took and the facts that hold now (read again after a roll-back).
 * On failure the token is closed and a secret unsealed here wiped; `secret` stays the caller's.
 */
export async function openVaultToken(
  store: WalletStore,
  location: VaultLocation,
  facts: VaultFacts,
  secret: VaultSecret,
  options: { provider: VaultSecretProvider; token?: OpenTokenOptions | undefined; rebind?: boolean | undefined },
  ctx: SealContext,
): Promise<{ token: Token; secret: VaultSecret; facts: VaultFacts; rolledBack: boolean }> {
  const token = openBoundToken(facts.binding, options.token, options.rebind === true);
  try {
    const login = await logInOrRollBack(store, token, facts.vaultId, secret, { provider: options.provider, ctx });
    try {
      const current = login.rolledBack ? vaultFacts(store, location) : facts;
      token.bindVaultKeys(current.binding.keys);
      return { token, secret: login.secret, facts: current, rolledBack: login.rolledBack };
    } catch (e) {
      if (login.rolledBack) wipeVaultSecret(login.secret);
      throw e;
    }
  } catch (e) {
    token.close();
    throw e;
  }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Refuses an override of the MAC'd token binding (issue 9 item 4: ambient configuration). */
function checkBindingOverride(binding: TokenBinding, override: OpenTokenOptions | undefined): void {
  const mismatches: string[] = [];
  if (override?.modulePath !== undefined && !sameFile(override.modulePath, binding.modulePath)) {
    mismatches.push(`PKCS#11 module ${override.modulePath} (HARDKMS_PKCS11_MODULE) is not ${binding.modulePath}`);
  }
  if (override?.profile !== undefined && override.profile !== binding.profile) {
    mismatches.push(`token profile '${override.profile}' is not '${binding.profile}'`);
  }
  if (mismatches.length === 0) return;
  throw new HardkmsError(
    'HSM_BINDING_MISMATCH',
    `This vault is bound to another token library: ${mismatches.join('; ')}.`,
    {
      hint: 'Unset HARDKMS_PKCS11_MODULE / HARDKMS_TOKEN_PROFILE to use the bound one. If the module really moved, run `hardkms rebind` with it set (needs the quorum; audited).',
    },
  );
}

/**
 * One token per vault: revoke, rotate and recover set a new token PIN, which locks every
 * other vault on the same token out. Checked before the ceremony, so no key is touched.
 */
export function refuseSharedToken(token: Token): void {
  const others = token.vaultTags();
  if (others.length === 0) return;
  throw new HardkmsError(
    'HSM_TOKEN_IN_USE',
    `Token '${token.info.label}' (serial ${token.info.serial}) already holds the keys of another vault: ${others.map((t) => `${t}…`).join(', ')} (the start of its vault id; \`hardkms status\` on that vault shows it). Nothing was created.`,
    {
      hint: 'Give each vault a token of its own (SoftHSM2: hsm/init-softhsm2-token.sh DIR LABEL, then HARDKMS_TOKEN_LABEL=LABEL). --share-token accepts the shared token, but then revoke, rotate or recover on either vault changes the token PIN and locks the other vault out.',
    },
  );
}
