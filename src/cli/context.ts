import { buildConfig, ENV_FILE_ALLOWED, type Config, type GlobalFlags } from '../config/config.js';
import { takeEnvSecret } from '../config/env.js';
import { HardkmsError } from '../errors.js';
import { PasswordProvider } from '../vault/password-provider.js';
import type { SealRecord, VaultSecretProvider } from '../vault/secret.js';
import { Vault } from '../vault/vault.js';
import { openSealedVault } from '../vault/facts.js';
import { warn } from './output.js';
import { readSecret } from './prompt.js';

const PASSWORD_PROMPT = 'Enter password to access wallet store (or set env var TATUM_KMS_PASSWORD): ';

/** TATUM_KMS_PASSWORD, as Tatum KMS reads it, else a hidden prompt (or a stdin line). */
export function passwordSource(promptText = PASSWORD_PROMPT): () => Promise<Buffer> {
  return async () => {
    const env = takeEnvSecret('TATUM_KMS_PASSWORD');
    if (env !== undefined) return env;
    return readSecret(promptText, 'password');
  };
}

type ProviderFactory = (record: SealRecord | undefined, config: Config) => VaultSecretProvider;

/**
 * Providers by the name stored in the seal. The YubiKey gate registers itself here
 * (cli/gate.ts); the password provider is always available.
 */
const providers = new Map<string, ProviderFactory>([
  [
    'password',
    () => {
      warn('this vault is sealed by a password only; use a YubiKey gate (hardkms init --yubikeys) for mainnet.');
      return new PasswordProvider(passwordSource());
    },
  ],
]);

export function registerProvider(name: string, factory: ProviderFactory): void {
  providers.set(name, factory);
}

export function providerFor(record: SealRecord, config: Config): VaultSecretProvider {
  const factory = providers.get(record.provider);
  if (!factory) {
    throw new HardkmsError(
      'SEAL_PROVIDER_UNKNOWN',
      `This vault is sealed by '${record.provider}', which this build of hardkms does not support.`,
      {
        hint: 'Use the hardkms version that created the vault.',
      },
    );
  }
  return factory(record, config);
}

let revealAuth: Record<string, unknown> | undefined;

/** Set by the gate's unseal check for a secret-revealing command: what authorised it (OTP or operators), for its audit record. */
export function setRevealAuthorisation(auth: Record<string, unknown>): void {
  revealAuth = auth;
}

export function revealAuthorisation(): Record<string, unknown> {
  return revealAuth ? { authorisation: revealAuth } : {};
}

type UnsealCheck = (vault: Vault, actor: string) => Promise<void> | void;
/** On the seal as wallet.dat holds it, before any touch: unauthenticated, so a hint to fail early, never the rule. */
type BeforeUnsealCheck = (seal: SealRecord, actor: string) => Promise<void> | void;

const beforeUnsealChecks: BeforeUnsealCheck[] = [];

/**
 * Runs before the unseal asks anyone to touch a YubiKey (cli/gate.ts: an OTP the vault will
 * ask for is asked for, and its absence refused, first). The check after the unseal, on the
 * authenticated seal, still decides.
 */
export function registerBeforeUnsealCheck(check: BeforeUnsealCheck): void {
  beforeUnsealChecks.push(check);
}

/** For callers that open the vault themselves (the daemon, recover): run this before the unseal. */
export async function runBeforeUnsealChecks(seal: SealRecord, actor: string): Promise<void> {
  for (const check of beforeUnsealChecks) await check(seal, actor);
}

const unsealChecks: UnsealCheck[] = [];

/** Runs after every unseal, before the command (cli/gate.ts: the Yubico OTP second factor). */
export function registerUnsealCheck(check: UnsealCheck): void {
  unsealChecks.push(check);
}

/** For callers that open the vault themselves (the daemon): run this before using it. */
export async function runUnsealChecks(vault: Vault, actor: string): Promise<void> {
  for (const check of unsealChecks) await check(vault, actor);
}

export function configFrom(flags: GlobalFlags): Config {
  const config = buildConfig(flags);
  if (config.envFileIgnored.length > 0) {
    warn(
      `${config.envFile}: ignored ${config.envFileIgnored.join(', ')} (env files set only ${ENV_FILE_ALLOWED.join(', ')}; set the others in the environment).`,
    );
  }
  return config;
}

/**
 * Unseals the vault, runs fn, and seals again whatever happens. `rebind`: the token binding
 * may move to the configured module (only `hardkms rebind` asks for it).
 */
export async function withVault<T>(
  config: Config,
  actor: string,
  fn: (vault: Vault) => Promise<T> | T,
  opts: { rebind?: true } = {},
): Promise<T> {
  // The facts read once: they choose the provider and the checks, and the unseal authenticates them.
  const sealed = openSealedVault({ path: config.walletPath, auditLogPath: config.auditLogPath });
  let provider: VaultSecretProvider;
  try {
    await runBeforeUnsealChecks(sealed.facts.seal, actor);
    provider = providerFor(sealed.facts.seal, config);
  } catch (e) {
    sealed.close();
    throw e;
  }
  const vault = await Vault.unseal(sealed, { provider, token: config.token, ...opts, actor });
  try {
    await runUnsealChecks(vault, actor);
    return await fn(vault);
  } finally {
    vault.seal(`end of ${actor}`);
  }
}
