import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseForwardTarget } from '../audit/forward.js';
import { PasswordProvider } from '../vault/password-provider.js';
import type { VaultSecretProvider } from '../vault/secret.js';
import { Vault } from '../vault/vault.js';
import { WalletStore } from '../vault/store.js';
import type { Config } from '../config/config.js';
import { takeEnvSecret } from '../config/env.js';
import { configFrom, passwordSource } from './context.js';
import { note, printJson, warn } from './output.js';
import { InputError } from '../errors.js';
import { readSecret } from './prompt.js';
import { globalFlags } from './flags.js';

/** The token user PIN: only init takes it from outside; afterwards it lives in the sealed vault secret. */
export async function tokenPinFromUser(): Promise<Buffer> {
  // Removed from the environment once read (issue 9 item 8): nothing this process starts inherits it.
  const env = takeEnvSecret('HARDKMS_TOKEN_PIN');
  if (env !== undefined) return env;
  return readSecret('Enter the token user PIN (or set HARDKMS_TOKEN_PIN): ', 'token PIN');
}

export interface InitProviderChoice {
  provider: VaultSecretProvider;
  /** Printed after success (e.g. recovery shares), then forgotten; may add public fields to the JSON result. */
  afterInit?: (vault: Vault) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
}

type InitProviderFactory = (opts: Record<string, unknown>, config: Config) => Promise<InitProviderChoice | undefined>;

const initProviders: InitProviderFactory[] = [];

/** The YubiKey gate adds its init options through this hook (cli/gate.ts). */
export function registerInitProvider(factory: InitProviderFactory): void {
  initProviders.push(factory);
}

export function registerInit(program: Command, extendOptions: (cmd: Command) => Command = (c) => c): void {
  const cmd = program
    .command('init')
    .description(
      'Create a new vault: wallet.dat bound to an HSM token, the token keys, and the seal that releases the vault secret',
    )
    .option('--testnet', 'testnet-only vault: refuses mainnet wallets')
    .option('--profile <name>', 'token profile from hsm/profiles (default softhsm2)')
    .option(
      '--share-token',
      "accept a token that already holds another vault's keys (a PIN change by either vault then locks the other out)",
    )
    .option(
      '--allow-password-mainnet',
      'let a vault sealed by a password only hold mainnet wallets (recorded in the vault and audited; without it a password vault is testnet-only)',
    )
    .option(
      '--audit-forward <url>',
      'send every audit record off-host before it takes effect: syslog+tcp://H:P, syslog+tls://H:P (RFC 5424) or https://H/PATH (JSON lines)',
    )
    .option('--audit-forward-ca <pem>', 'CA certificate of the audit sink (TLS, HTTPS), bound with it');
  extendOptions(cmd);
  globalFlags(cmd).action(async (opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    WalletStore.refuseExisting(config.walletPath); // before any prompt or touch
    let choice: InitProviderChoice | undefined;
    for (const factory of initProviders) {
      choice = await factory(opts, config);
      if (choice) break;
    }
    const allowPasswordMainnet = opts.allowPasswordMainnet === true;
    if (choice && allowPasswordMainnet) {
      throw new InputError(
        '--allow-password-mainnet applies to a vault sealed by a password, not to a YubiKey gate.',
        'Drop --allow-password-mainnet.',
      );
    }
    let testnetOnly = opts.testnet === true;
    if (!choice) {
      warn(
        'sealing the vault with a password only. For mainnet use a YubiKey gate: hardkms init --yubikeys N --threshold M.',
      );
      if (!testnetOnly && !allowPasswordMainnet) {
        testnetOnly = true;
        note(
          'A vault sealed by a password only is testnet-only: mainnet wallets are refused. (--allow-password-mainnet overrides this, audited.)',
        );
      } else if (!testnetOnly) {
        warn(
          [
            '--allow-password-mainnet: THIS MAINNET VAULT IS GUARDED BY ONE PASSWORD ONLY.',
            'Whoever learns the password (and can reach wallet.dat and the token) can sign with every mainnet key.',
            'This choice is recorded in the vault and in the audit log; the daemon names it at every start.',
          ].join('\n'),
        );
      }
      choice = {
        provider: new PasswordProvider(
          passwordSource('Choose a password for the wallet store (or set env var TATUM_KMS_PASSWORD): '),
        ),
      };
    }
    const auditForward =
      typeof opts.auditForward === 'string'
        ? parseForwardTarget(
            opts.auditForward,
            typeof opts.auditForwardCa === 'string' ? readFileSync(opts.auditForwardCa, 'utf8') : undefined,
          )
        : undefined;
    const tokenPin = await tokenPinFromUser();
    let vault: Vault | undefined;
    try {
      vault = await Vault.init({
        path: config.walletPath,
        auditLogPath: config.auditLogPath,
        token: config.token,
        tokenPin,
        provider: choice.provider,
        shareToken: opts.shareToken === true,
        testnetOnly,
        gatePolicy: {
          passwordOnMainnet: allowPasswordMainnet,
          emulatedOnMainnet: opts.allowEmulatedYubikey === true,
          singleOperatorOnMainnet: opts.allowSingleOperator === true,
        },
        actor: 'cli:init',
        auditForward,
      });
      const result = {
        vaultId: vault.vaultId,
        path: config.walletPath,
        auditLog: config.auditLogPath,
        token: { label: vault.binding.label, serial: vault.binding.serial, profile: vault.binding.profile },
        seal: vault.sealRecord().provider,
        testnetOnly: vault.testnetOnly,
        gatePolicy: (({ recorded: _r, ...flags }) => flags)(vault.gatePolicy()),
        auditKeyFingerprint: vault.binding.auditKeyFingerprint,
      };
      printJson({ ...result, ...((await choice.afterInit?.(vault)) ?? {}) });
      note(
        `Vault created. Back up ${config.walletPath} and the token; losing either (or the means to unseal) loses every key.`,
      );
      note(
        `Audit key fingerprint (SHA-256): ${vault.binding.auditKeyFingerprint}. Give it to your auditors to write down: \`hardkms audit verify --fingerprint\` checks the log against it.`,
      );
    } finally {
      tokenPin.fill(0);
      vault?.seal('end of init');
    }
  });
}
