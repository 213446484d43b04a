import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { Config } from '../config/config.js';
import { HardkmsError, InputError, isHardkmsError } from '../errors.js';
import {
  DEFAULT_TOUCH_TIMEOUT_MS,
  DRIVER_NAMES,
  gateStatus,
  getDriver,
  isDriverName,
  modhexDecode,
  decodeRecoverySheet,
  findCredential,
  parseYubiKeySealRecord,
  softwareOtpDecrypt,
  verifyOtp,
  wipeRecovery,
  YubiKeyGateProvider,
  type DriverName,
  type GateCredentialSpec,
  type GateSealResult,
  type PassphraseRequest,
  type RecoverySheet,
  type YubiKeyGateOptions,
  type YubiKeySealRecord,
} from '../gate/index.js';
import {
  keysToEnroll as planKeys,
  newKeySerial as planNewKeySerial,
  removeFiles,
  requireEmulatorDir,
} from '../gate/enrollment.js';
import { enforceOtp, OTP_COMMANDS, otpRequired, otpRequiredError, revealsSecret } from '../gate/otp-check.js';
import { authoriseReveal } from '../gate/reveal.js';
import { gatePresence as presenceOf } from '../gate/presence.js';
import { OtpStore, otpPolicyOf, withOtpPolicy, type OtpPolicy } from '../vault/otp-store.js';
import { PasswordProvider, passwordSealKdf } from '../vault/password-provider.js';
import { applySeal as applySealInVault, newVaultSecret } from '../vault/seal-rotation.js';
import type { SealContext, SealRecord, VaultSecret, VaultSecretProvider } from '../vault/secret.js';
import { Vault } from '../vault/vault.js';
import { readVaultFacts } from '../vault/facts.js';
import {
  configFrom,
  registerBeforeUnsealCheck,
  registerProvider,
  registerUnsealCheck,
  setRevealAuthorisation,
  withVault,
} from './context.js';
import { globalFlags } from './flags.js';
import { registerInitProvider, type InitProviderChoice } from './init.js';
import { note, printJson, warn } from './output.js';
import { startProgress } from './progress.js';
import { beginCeremony } from './ceremony.js';
import { printHealthTable, statusHealth, unhealthyError } from './status.js';
import { outputFormat } from './table.js';
import { readLine, readNewSecret, readSecret } from './prompt.js';
import {
  checkRecipients,
  prepareRecovery,
  recoveryDestination,
  recoveryFlags,
  type PreparedRecovery,
  type RecoveryDestination,
} from './recovery.js';
import { readEnv, type PublicEnvName } from '../config/env.js';

/**
 * The YubiKey gate on the command line: init options, the unseal provider, status,
 * enroll / revoke / rotate / recover, and the Yubico OTP second factor.
 *
 * Revoke, rotate and recover make a whole new vault secret (new store key and new random
 * token PIN) and re-key wallet.dat: the rules and the crash-safe protocol are in
 * vault/seal-rotation.ts and vault/rekey.ts.
 */

const TIMEOUT_ENV = 'HARDKMS_YUBIKEY_TIMEOUT' satisfies PublicEnvName;

/** The command being run and its --otp value, captured before its action runs. */
const invocation: { command: string; otp: string | undefined; confirmed: string[] } = {
  command: '',
  otp: undefined,
  confirmed: [],
};

type GateOpts = Record<string, unknown> & { path?: string; auditLog?: string; envFile?: string };

export function gateInitOptions(cmd: Command): Command {
  cmd
    .option('--yubikeys <n>', 'seal with a YubiKey gate of N keys (one per operator)')
    .option('--threshold <m>', 'keys needed to unseal (default 2 when N >= 2)')
    .option('--driver <name>', `YubiKey driver: ${DRIVER_NAMES.join(', ')} (default ykman)`)
    .option('--labels <list>', 'comma-separated operator labels, one per key (default yubikey-<serial>)')
    .option('--serials <list>', 'comma-separated serials of the keys to enroll (default: the keys connected)')
    .option('--slot <n>', 'challenge-response slot (default 2)')
    .option('--passphrase', 'each operator also sets a passphrase mixed into their key (asked per key)')
    .option('--allow-emulated-yubikey', 'accept the emulator for a mainnet vault (recorded and audited; demos only)')
    .option('--allow-single-operator', 'accept threshold 1 for a mainnet vault (recorded and audited)');
  return recoveryFlags(cmd);
}

export function registerGate(program: Command): void {
  registerProvider(
    'yubikey',
    (record, config) => new YubiKeyGateProvider({ ...gateOptions(config), ...confirmOption(record) }),
  );
  registerInitProvider(initProvider);
  registerBeforeUnsealCheck(otpBeforeTouch);
  registerUnsealCheck(requireOtp);
  registerStatus(program);
  registerEnroll(program);
  registerRevoke(program);
  registerRotate(program);
  registerRecover(program);
  registerOtp(program);
  // --otp on every command, including ones registered after this call.
  addOtpFlag(program);
  program.hook('preSubcommand', (_parent, sub) => addOtpFlag(sub));
  program.hook('preAction', (_self, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c?.parent; c = c.parent) names.unshift(c.name());
    invocation.command = names.join(' ');
    const otp = action.opts().otp;
    invocation.otp = typeof otp === 'string' && otp !== '' ? otp : undefined;
  });
}

function addOtpFlag(cmd: Command): void {
  if (cmd.commands.length > 0) {
    for (const sub of cmd.commands) addOtpFlag(sub);
    return;
  }
  if (cmd.options.some((o) => o.long === '--otp')) return;
  const otp = new Option('--otp <otp>', 'Yubico OTP (touch the enrolled YubiKey), when the vault requires one');
  // Accepted everywhere (scripts pass it blindly), shown only where a vault is unsealed.
  if (NEVER_UNSEALS.has(commandPath(cmd))) otp.hideHelp();
  cmd.addOption(otp);
}

/** Commands that never unseal the vault, so never check an OTP. */
const NEVER_UNSEALS = new Set([
  'generatewallet',
  'checkconfig',
  'status',
  'init',
  'completion',
  'audit verify',
  'audit report',
  'audit show',
  'audit withdrawals',
  'token check',
  'token repair',
  'token backup',
]);

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

// ------------------------------------------------------------------ provider plumbing

function gateOptions(config: Config): YubiKeyGateOptions {
  return {
    ...(config.emulatorDir ? { emulatorDir: config.emulatorDir } : {}),
    onWait: (message) => note(message),
    getPassphrase: askPassphrase,
    timeoutMs: touchTimeoutMs(),
    ...(invocation.command ? { command: invocation.command } : {}),
  };
}

/**
 * A command that reveals a secret on a vault without OTP: each operator approves it,
 * by name of command and vault, before their touch (the touch alone says nothing).
 */
function confirmOption(record: SealRecord | undefined): Pick<YubiKeyGateOptions, 'confirm'> {
  if (!revealsSecret(invocation.command) || (record && otpPolicyOf(record))) return {};
  return {
    confirm: async (req) => {
      const answer = await readLine(
        `Operator ${req.label} (YubiKey serial ${req.serial}): \`hardkms ${req.command}\` will show secrets of vault ${req.vaultId}. Type "yes" to approve: `,
      );
      const ok = answer.toLowerCase() === 'yes';
      if (ok) invocation.confirmed.push(req.credentialId);
      return ok;
    },
  };
}

function touchTimeoutMs(): number {
  const raw = readEnv(TIMEOUT_ENV);
  if (raw === undefined) return DEFAULT_TOUCH_TIMEOUT_MS;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > 600)
    throw new InputError(`${TIMEOUT_ENV}='${raw}' is not a number of seconds from 1 to 600.`);
  return Math.round(s * 1000);
}

async function askPassphrase(req: PassphraseRequest): Promise<Buffer> {
  const who = `YubiKey ${req.label} (serial ${req.serial})`;
  if (req.purpose === 'unseal') return readSecret(`Passphrase for the ${who}: `, 'YubiKey passphrase');
  if (req.purpose === 'recover')
    return readSecret(`Passphrase of ${req.label}, whose recovery share is bound to it: `, 'YubiKey passphrase');
  return readNewSecret(`Choose a passphrase for the ${who}: `, 'YubiKey passphrase', 'passphrases');
}

/** Audit sink for gate operations on an unsealed vault: every record is signed by the token. */
function sealContext(vault: Vault): SealContext {
  return {
    vaultId: vault.vaultId,
    mainnet: !vault.testnetOnly,
    audit: (event, result, details) => {
      vault.record({ event, result, subject: vault.vaultId, ...(details ? { details } : {}) });
    },
  };
}

function requireGateVault(config: Config, command: string): YubiKeySealRecord {
  const seal = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath }).seal;
  if (seal.provider !== 'yubikey') {
    throw new HardkmsError(
      'GATE_NOT_CONFIGURED',
      `\`hardkms ${command}\` works on a YubiKey gate, but this vault is sealed by '${seal.provider}'.`,
      {
        hint: 'Create a vault with `hardkms init --yubikeys N --threshold M` and move the wallets into it.',
      },
    );
  }
  return parseYubiKeySealRecord(seal);
}

/** Stores a new seal (and with `newSecret` re-keys the store and changes the token PIN): vault/seal-rotation.ts. */
function applySeal(vault: Vault, record: SealRecord, newSecret?: VaultSecret): void {
  const progress = newSecret ? startProgress('rows re-keyed', 0) : undefined;
  vault.store.onRekeyProgress = progress ? (done, total) => progress.update(done, total) : undefined;
  try {
    applySealInVault(vault, record, newSecret, {
      onPinRotated: () =>
        note(
          `The user PIN of token '${vault.binding.label}' was changed to a new random value held only in the sealed vault secret, and wallet.dat was re-keyed.`,
        ),
    });
  } finally {
    vault.store.onRekeyProgress = undefined;
    progress?.finish();
  }
}

function publicGate(record: SealRecord): Record<string, unknown> {
  const s = gateStatus(record);
  return { threshold: s.threshold, credentials: s.credentials };
}

// ------------------------------------------------------------------ parsing helpers

function intOption(value: unknown, flag: string, min: number, max: number): number {
  const text = String(value);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new InputError(`${flag} '${text}' is not a whole number from ${min} to ${max}.`);
  return n;
}

function driverOption(value: unknown): DriverName | undefined {
  if (value === undefined) return undefined;
  if (!isDriverName(value))
    throw new InputError(`Unknown YubiKey driver '${String(value)}'.`, `Use one of: ${DRIVER_NAMES.join(', ')}.`);
  return value;
}

function slotOption(value: unknown): 1 | 2 {
  if (value === undefined) return 2;
  if (value !== '1' && value !== '2')
    throw new InputError(
      `--slot '${String(value)}' is not 1 or 2.`,
      'Slot 2 (the default) holds the challenge-response credential.',
    );
  return value === '1' ? 1 : 2;
}

function listOption(value: unknown, flag: string, n: number): string[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value)
    .split(',')
    .map((s) => s.trim());
  if (items.length !== n || items.some((s) => s === ''))
    throw new InputError(`${flag} must list ${n} non-empty values separated by commas.`);
  return items;
}

function serialsOption(value: unknown, n: number): number[] | undefined {
  return listOption(value, '--serials', n)?.map((s) => intOption(s, '--serials', 1, 0xffffffff));
}

function emulatorDir(config: Config): string {
  return requireEmulatorDir(config.emulatorDir);
}

/** The keys to enroll for init and recover, from the flags: created (emulator) or connected (real). */
function keysToEnroll(
  config: Config,
  o: GateOpts,
  driver: DriverName,
  n: number,
  created: string[],
  defaults: { passphrase?: boolean } = {},
): Promise<GateCredentialSpec[]> {
  return planKeys(
    {
      n,
      driver,
      slot: slotOption(o.slot),
      labels: listOption(o.labels, '--labels', n),
      serials: serialsOption(o.serials, n),
      passphrase: o.passphrase === true || defaults.passphrase === true,
      emulatorDir: config.emulatorDir,
    },
    created,
  );
}

// ------------------------------------------------------------------ recovery shares

/** The new shares go to the destination chosen before the ceremony (cli/recovery.ts); the seal is committed in between. */
async function commitWithRecovery(
  dest: RecoveryDestination,
  vault: Vault,
  result: GateSealResult,
  command: string,
  commit: () => void,
): Promise<Record<string, unknown>> {
  try {
    const prepared = await prepareRecovery(dest, result, { vaultId: vault.vaultId, command });
    commit();
    return await prepared.deliver();
  } finally {
    wipeRecovery(result.recoveryShares);
  }
}

// ------------------------------------------------------------------ init

const GATE_ONLY_FLAGS: Array<[string, string]> = [
  ['threshold', '--threshold'],
  ['driver', '--driver'],
  ['labels', '--labels'],
  ['serials', '--serials'],
  ['slot', '--slot'],
  ['passphrase', '--passphrase'],
  ['allowEmulatedYubikey', '--allow-emulated-yubikey'],
  ['allowSingleOperator', '--allow-single-operator'],
  ['recoveryOut', '--recovery-out'],
  ['recoveryTo', '--recovery-to'],
];

async function initProvider(opts: Record<string, unknown>, config: Config): Promise<InitProviderChoice | undefined> {
  const o = opts as GateOpts;
  if (o.yubikeys === undefined) {
    const stray = GATE_ONLY_FLAGS.find(([k]) => o[k] !== undefined);
    if (stray)
      throw new InputError(
        `${stray[1]} applies to a YubiKey gate.`,
        'Add --yubikeys N (and --threshold M) to seal the vault with YubiKeys.',
      );
    return undefined;
  }
  const n = intOption(o.yubikeys, '--yubikeys', 1, 16);
  const threshold = o.threshold === undefined ? undefined : intOption(o.threshold, '--threshold', 1, n);
  const driver = driverOption(o.driver) ?? 'ykman';
  const mainnet = o.testnet !== true;
  listOption(o.labels, '--labels', n);
  serialsOption(o.serials, n);
  slotOption(o.slot);
  // Where the shares will go is settled before anything is created or touched.
  const dest = recoveryDestination(o);
  // Fail on a missing key before the token PIN is asked for.
  const connected = driver === 'emulator' ? undefined : await keysToEnroll(config, o, driver, n, []);
  if (driver === 'emulator') emulatorDir(config);
  if (mainnet && o.allowEmulatedYubikey === true)
    warn('--allow-emulated-yubikey: this mainnet vault accepts emulated YubiKeys (recorded in the seal and audited).');
  if (mainnet && o.allowSingleOperator === true)
    warn(
      '--allow-single-operator: this mainnet vault may be opened by one operator (recorded in the seal and audited).',
    );
  let result: GateSealResult | undefined;
  let prepared: PreparedRecovery | undefined;
  const provider: VaultSecretProvider = {
    name: 'yubikey',
    seal: async (secret, ctx) => {
      const created: string[] = [];
      try {
        // Emulated keys are created only now, after the token login: a refused init leaves none behind.
        const specs = connected ?? (await keysToEnroll(config, o, driver, n, created));
        checkRecipients(
          dest,
          specs.map((s) => s.label),
        );
        const gate = new YubiKeyGateProvider({
          ...gateOptions(config),
          credentials: specs,
          ...(threshold !== undefined ? { threshold } : {}),
          driver,
          allowEmulated: o.allowEmulatedYubikey === true,
          allowSingleOperator: o.allowSingleOperator === true,
        });
        result = await gate.sealWithRecovery(secret, ctx);
        prepared = await prepareRecovery(dest, result, { vaultId: ctx.vaultId, command: 'init' });
        return result.record;
      } catch (e) {
        if (result) wipeRecovery(result.recoveryShares);
        await removeFiles(created);
        throw e;
      }
    },
    unseal: (record, ctx) => new YubiKeyGateProvider(gateOptions(config)).unseal(record, ctx),
  };
  return {
    provider,
    afterInit: async (vault) => {
      try {
        return { gate: publicGate(vault.sealRecord()), ...(prepared ? await prepared.deliver() : {}) };
      } finally {
        if (result) wipeRecovery(result.recoveryShares);
      }
    },
  };
}

// ------------------------------------------------------------------ status

function registerStatus(program: Command): void {
  globalFlags(
    program
      .command('status')
      .description(
        'Health check without unsealing: token files and reachability, seal and YubiKeys, backups, wallet counts, audit head, daemon; exit 1 on a problem',
      )
      .option('--daemon-url <url>', "the daemon's --metrics-addr, e.g. http://127.0.0.1:9464: its /healthz is included")
      .option('--output <format>', 'text (a table) or json', 'text'),
  ).action(async (opts: GateOpts & { daemonUrl?: string; output?: string }) => {
    const format = outputFormat(opts.output);
    const config = configFrom(opts);
    const facts = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath });
    const policy = otpPolicyOf(facts.seal);
    const health = await statusHealth(config, facts, { daemonUrl: opts.daemonUrl });
    const report = {
      vaultId: facts.vaultId,
      created: facts.created,
      path: config.walletPath,
      auditLog: facts.auditLogPath,
      sealed: true,
      unsealing:
        'Each hardkms process (a command, or the daemon) unseals for its own run and seals at its end; this one holds no secret.',
      testnetOnly: facts.testnetOnly,
      seal:
        facts.seal.provider === 'yubikey'
          ? await gatePresence(facts.seal, config, !facts.testnetOnly)
          : passwordStatus(facts.seal),
      token: {
        label: facts.binding.label,
        serial: facts.binding.serial,
        module: facts.binding.modulePath,
        profile: facts.binding.profile,
      },
      otp: {
        keys: policy?.keys ?? [],
        atUnseal: policy?.atUnseal ?? false,
        requiredFor: policy ? (policy.atUnseal ? 'every unseal' : [...OTP_COMMANDS]) : [],
      },
      auditHead: facts.auditHead ?? null,
      wallets: health.walletCounts,
      walletsNote:
        'Counted without unsealing: wallet rows are authenticated with the vault secret only when unsealed, so treat the counts as unverified.',
      health,
    };
    if (format === 'json') printJson(report);
    else
      printHealthTable(health, {
        vaultId: facts.vaultId,
        path: config.walletPath,
        testnetOnly: facts.testnetOnly,
        seal: facts.seal.provider,
      });
    if (!health.ok) throw unhealthyError(health);
  });
}

function passwordStatus(seal: SealRecord): Record<string, unknown> {
  const kdf = passwordSealKdf(seal);
  return { provider: seal.provider, ...(kdf ? { kdf } : {}) };
}

function gatePresence(seal: SealRecord, config: Config, mainnet: boolean): Promise<Record<string, unknown>> {
  return presenceOf(
    seal,
    (name) => getDriver(name, config.emulatorDir ? { emulatorDir: config.emulatorDir } : {}),
    mainnet,
  );
}

// ------------------------------------------------------------------ enroll / revoke / rotate

function registerEnroll(program: Command): void {
  globalFlags(
    recoveryFlags(
      program
        .command('enroll')
        .description(
          'Add a YubiKey to the gate: needs a quorum; every key is touched again and new recovery shares are printed',
        )
        .option('--driver <name>', `driver of the new key: ${DRIVER_NAMES.join(', ')} (default: the vault's)`)
        .option('--label <label>', 'operator label (default yubikey-<serial>)')
        .option('--serial <n>', 'serial of the key to add (default: the one connected key not yet enrolled)')
        .option('--slot <n>', 'challenge-response slot (default 2)')
        .option('--passphrase', 'the new operator also sets a passphrase')
        .option('--threshold <m>', 'new threshold (default: unchanged)'),
    ),
  ).action(async (opts: GateOpts) => {
    const config = configFrom(opts);
    requireGateVault(config, 'enroll');
    const dest = recoveryDestination(opts);
    beginCeremony(config, 'enroll');
    await withVault(config, 'cli:enroll', async (vault) => {
      const rec = parseYubiKeySealRecord(vault.sealRecord());
      const driver = driverOption(opts.driver) ?? rec.driver;
      const threshold =
        opts.threshold === undefined
          ? undefined
          : intOption(opts.threshold, '--threshold', 1, rec.credentials.length + 1);
      const created: string[] = [];
      try {
        const serial = await newKeySerial(config, driver, rec, opts.serial, created);
        const spec: GateCredentialSpec = {
          label: typeof opts.label === 'string' ? opts.label : `yubikey-${serial}`,
          serial,
          slot: slotOption(opts.slot),
          driver,
          passphrase: opts.passphrase === true,
        };
        checkRecipients(dest, [...rec.credentials.map((c) => c.label), spec.label]);
        const result = await new YubiKeyGateProvider(gateOptions(config)).enroll(
          vault.sealRecord(),
          vault.currentSecret(),
          [spec],
          sealContext(vault),
          threshold === undefined ? {} : { threshold },
        );
        const recovery = await commitWithRecovery(dest, vault, result, 'enroll', () => applySeal(vault, result.record));
        const added = result.record.credentials.find((c) => c.serial === serial)!;
        printJson({
          enrolled: {
            id: added.id,
            label: added.label,
            serial,
            driver,
            slot: added.slot,
            passphrase: added.passphrase,
          },
          gate: publicGate(result.record),
          ...recovery,
        });
      } catch (e) {
        await removeFiles(created);
        throw e;
      }
    });
  });
}

function newKeySerial(
  config: Config,
  driver: DriverName,
  rec: YubiKeySealRecord,
  serialOpt: unknown,
  created: string[],
): Promise<number> {
  const wanted = serialOpt === undefined ? undefined : intOption(serialOpt, '--serial', 1, 0xffffffff);
  return planNewKeySerial(driver, rec, wanted, config.emulatorDir, created);
}

function registerRevoke(program: Command): void {
  globalFlags(
    recoveryFlags(
      program
        .command('revoke')
        .description(
          'Remove a YubiKey from the gate (needs a quorum); sets a new token PIN so old shares are useless, prints new recovery shares',
        )
        .argument('<credential>', 'credential id, label or serial (see `hardkms status`)')
        .option('--threshold <m>', 'new threshold (default: unchanged)'),
    ),
  ).action(async (ref: string, opts: GateOpts) => {
    const config = configFrom(opts);
    const revoking = requireGateVault(config, 'revoke');
    const dest = recoveryDestination(opts);
    const target = findCredential(revoking, ref);
    checkRecipients(
      dest,
      revoking.credentials.filter((c) => c.id !== target.id).map((c) => c.label),
    );
    beginCeremony(config, 'revoke');
    await withVault(config, 'cli:revoke', async (vault) => {
      const rec = parseYubiKeySealRecord(vault.sealRecord());
      const threshold =
        opts.threshold === undefined ? undefined : intOption(opts.threshold, '--threshold', 1, rec.credentials.length);
      const newSecret = newVaultSecret();
      try {
        const result = await new YubiKeyGateProvider(gateOptions(config)).revoke(
          vault.sealRecord(),
          vault.currentSecret(),
          ref,
          sealContext(vault),
          {
            newSecret,
            ...(threshold === undefined ? {} : { threshold }),
          },
        );
        const gone = rec.credentials.find((c) => !result.record.credentials.some((k) => k.id === c.id))!;
        const recovery = await commitWithRecovery(dest, vault, result, 'revoke', () =>
          applySeal(vault, result.record, newSecret),
        );
        printJson({
          revoked: { id: gone.id, label: gone.label, serial: gone.serial },
          tokenPinRotated: true,
          storeRekeyed: true,
          gate: publicGate(result.record),
          ...recovery,
        });
      } finally {
        newSecret.tokenPin.fill(0);
        newSecret.storeKey.fill(0);
      }
    });
  });
}

function registerRotate(program: Command): void {
  globalFlags(
    recoveryFlags(
      program
        .command('rotate')
        .description(
          'New challenges and shares for every key (or a new password), a new random token PIN and store key; new recovery shares',
        ),
    ),
  ).action(async (opts: GateOpts) => {
    const config = configFrom(opts);
    const seal = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath }).seal;
    const provider = seal.provider;
    const dest = provider === 'yubikey' ? recoveryDestination(opts) : undefined;
    if (dest)
      checkRecipients(
        dest,
        parseYubiKeySealRecord(seal).credentials.map((c) => c.label),
      );
    beginCeremony(config, 'rotate');
    await withVault(config, 'cli:rotate', async (vault) => {
      const newSecret = newVaultSecret();
      try {
        if (provider === 'password') {
          const record = await new PasswordProvider(newPassword).seal(newSecret, sealContext(vault));
          applySeal(vault, record, newSecret);
          vault.record({ event: 'password.rotate', subject: vault.vaultId, result: 'ok' });
          printJson({ rotated: 'password', tokenPinRotated: true });
          return;
        }
        const result = await new YubiKeyGateProvider(gateOptions(config)).rotate(
          vault.sealRecord(),
          vault.currentSecret(),
          sealContext(vault),
          { newSecret },
        );
        const recovery = await commitWithRecovery(dest!, vault, result, 'rotate', () =>
          applySeal(vault, result.record, newSecret),
        );
        printJson({
          rotated: 'yubikey',
          tokenPinRotated: true,
          storeRekeyed: true,
          gate: publicGate(result.record),
          ...recovery,
        });
      } finally {
        newSecret.tokenPin.fill(0);
        newSecret.storeKey.fill(0);
      }
    });
  });
}

function newPassword(): Promise<Buffer> {
  return readNewSecret('Choose a new password for the wallet store: ', 'new password', 'passwords');
}

// ------------------------------------------------------------------ recover

function registerRecover(program: Command): void {
  globalFlags(
    recoveryFlags(
      program
        .command('recover')
        .description(
          'Rebuild the vault secret from M recovery shares (read one per line) and enroll new YubiKeys in place of all old ones',
        )
        .option('--yubikeys <n>', 'how many new keys (default: as many as before)')
        .option('--threshold <m>', 'new threshold (default: unchanged)')
        .option('--driver <name>', `driver of the new keys: ${DRIVER_NAMES.join(', ')} (default: the vault's)`)
        .option('--labels <list>', 'comma-separated operator labels (default yubikey-<serial>)')
        .option('--serials <list>', 'comma-separated serials of the new keys (default: the keys connected)')
        .option('--slot <n>', 'challenge-response slot (default 2)')
        .option('--passphrase', 'each new operator also sets a passphrase'),
    ),
  ).action(async (opts: GateOpts) => {
    const config = configFrom(opts);
    const rec = requireGateVault(config, 'recover');
    const dest = recoveryDestination(opts);
    beginCeremony(config, 'recover');
    const n = opts.yubikeys === undefined ? rec.credentials.length : intOption(opts.yubikeys, '--yubikeys', 1, 16);
    const threshold =
      opts.threshold === undefined ? Math.min(rec.threshold, n) : intOption(opts.threshold, '--threshold', 1, n);
    const driver = driverOption(opts.driver) ?? rec.driver;
    // Each typed line becomes share bytes at once (a typo is reported for that share); the words never become strings.
    const shares: RecoverySheet[] = [];
    try {
      for (let i = 1; i <= rec.threshold; i++) {
        const line = await readSecret(
          `Recovery share ${i} of ${rec.threshold} (${i - 1} of ${rec.threshold} given; its words on one line): `,
          'recovery share',
        );
        try {
          shares.push(decodeRecoverySheet(line));
        } finally {
          line.fill(0);
        }
        note(`${i} of ${rec.threshold} given.`);
      }
    } catch (e) {
      for (const b of shares) b.body.fill(0);
      throw e;
    }
    const gate = new YubiKeyGateProvider(gateOptions(config));
    const recovery: VaultSecretProvider = {
      name: 'yubikey-recovery',
      seal: () => Promise.reject(new Error('recovery only unseals')),
      unseal: (record, ctx) => gate.recover(record, shares, ctx),
    };
    let vault: Vault;
    try {
      vault = await Vault.open({
        path: config.walletPath,
        auditLogPath: config.auditLogPath,
        provider: recovery,
        token: config.token,
        actor: 'cli:recover',
      });
    } finally {
      for (const b of shares) b.body.fill(0);
    }
    const created: string[] = [];
    const newSecret = newVaultSecret();
    try {
      // Recovery opens the vault as an unseal does: the vault's OTP policy applies to it too.
      const given = invocation.otp;
      invocation.otp = undefined;
      await enforceOtp(vault, {
        command: 'recover',
        given,
        ask: async () => (process.stdin.isTTY ? await readLine('Touch a YubiKey enrolled for OTP: ') : undefined),
      });
      const specs = await keysToEnroll(config, opts, driver, n, created);
      checkRecipients(
        dest,
        specs.map((s) => s.label),
      );
      const result = await new YubiKeyGateProvider({
        ...gateOptions(config),
        credentials: specs,
        threshold,
        driver,
        allowEmulated: rec.allowEmulated,
        allowSingleOperator: rec.allowSingleOperator,
      }).sealWithRecovery(newSecret, sealContext(vault));
      const recovery = await commitWithRecovery(dest, vault, result, 'recover', () =>
        applySeal(vault, result.record, newSecret),
      );
      vault.record({
        event: 'recover',
        subject: vault.vaultId,
        result: 'ok',
        details: {
          replaced: rec.credentials.map((c) => c.id),
          enrolled: result.record.credentials.map((c) => c.id),
          threshold,
        },
      });
      printJson({
        recovered: true,
        replaced: rec.credentials.map((c) => c.id),
        tokenPinRotated: true,
        storeRekeyed: true,
        gate: publicGate(result.record),
        ...recovery,
      });
    } catch (e) {
      await removeFiles(created);
      if (isHardkmsError(e))
        vault.record({ event: 'recover', subject: vault.vaultId, result: 'fail', details: { error: e.code } });
      throw e;
    } finally {
      newSecret.tokenPin.fill(0);
      newSecret.storeKey.fill(0);
      vault.seal('end of recover');
    }
  });
}

// ------------------------------------------------------------------ Yubico OTP

/** `bytes` hex digits (surrounding whitespace allowed) to a Buffer, without a string copy; undefined if malformed. */
function hexKeyFromBuffer(text: Buffer, bytes: number): Buffer | undefined {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === 0x20 || text[start] === 0x09 || text[start] === 0x0d || text[start] === 0x0a))
    start++;
  while (
    end > start &&
    (text[end - 1] === 0x20 || text[end - 1] === 0x09 || text[end - 1] === 0x0d || text[end - 1] === 0x0a)
  )
    end--;
  if (end - start !== bytes * 2) return undefined;
  const nibble = (c: number): number =>
    c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) {
    const hi = nibble(text[start + 2 * i]!);
    const lo = nibble(text[start + 2 * i + 1]!);
    if (hi < 0 || lo < 0) {
      out.fill(0);
      return undefined;
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function registerOtp(program: Command): void {
  const otp = program
    .command('otp')
    .description('Yubico OTP as a second factor for the commands that print secrets (or every unseal)');

  globalFlags(
    otp
      .command('add')
      .description(
        'Enroll a YubiKey OTP credential: its AES key (read hidden / from stdin) goes into the token, non-extractable',
      )
      .requiredOption('--public-id <modhex>', 'public id of the YubiKey OTP credential (modhex)')
      .requiredOption('--private-id <hex>', 'private id (12 hex digits)')
      .option('--label <label>', 'operator label (default otp-<public id>)')
      .option(
        '--verify <otp>',
        'a fresh OTP from that key, to check the AES key before storing it (else read after the key)',
      )
      .option('--at-unseal', 'require an OTP at every unseal, not only for commands that print secrets'),
  ).action(
    async (
      opts: GateOpts & { publicId: string; privateId: string; label?: string; verify?: string; atUnseal?: boolean },
    ) => {
      const config = configFrom(opts);
      const publicId = opts.publicId.trim().toLowerCase();
      if (publicId.length < 2 || publicId.length > 32)
        throw new InputError(`--public-id '${publicId}' is not 2 to 32 modhex characters.`);
      modhexDecode(publicId);
      if (!/^[0-9a-fA-F]{12}$/.test(opts.privateId))
        throw new InputError('--private-id must be 12 hex digits (6 bytes).');
      const privateId = Buffer.from(opts.privateId, 'hex');
      const exists = (): HardkmsError =>
        new HardkmsError('OTP_EXISTS', `An OTP key with public id ${publicId} is already enrolled.`, {
          hint: 'Remove it first with `hardkms otp remove`.',
        });
      const facts = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath });
      if (otpPolicyOf(facts.seal)?.keys.includes(publicId)) throw exists();
      // The key and the OTP that checks it are read and checked (in software) before the
      // operators touch their keys: a mistyped key costs nobody a touch.
      let key: Buffer | undefined;
      try {
        const keyText = await readSecret(
          'Enter the AES key of the YubiKey OTP credential (32 hex digits): ',
          'OTP AES key',
        );
        // Decoded from the Buffer: the AES key never becomes an immutable JS string.
        key = hexKeyFromBuffer(keyText, 16);
        keyText.fill(0);
        if (!key)
          throw new InputError(
            'The OTP AES key must be 32 hex digits (16 bytes).',
            'Copy it from the programming sheet of the YubiKey.',
          );
        const aes = key;
        const first = opts.verify ?? (await readLine('Touch that YubiKey to type an OTP (checks the key): '));
        if (!first)
          throw new HardkmsError('OTP_REQUIRED', 'A fresh OTP from the key is needed to check the AES key.', {
            hint: 'Pass --verify <OTP>.',
          });
        // Checked in software before the key goes into the token: a mistyped key would lock
        // operators out of every command that needs an OTP.
        const verified = await verifyOtp(first, { publicId, privateId, decrypt: softwareOtpDecrypt(aes) });
        await withVault(config, 'cli:otp.add', (vault) => {
          const store = new OtpStore(vault.store);
          try {
            if (store.get(publicId)) throw exists();
            const keyId = randomBytes(8).toString('hex');
            vault.token.importAesKey(aes, keyId, `hardkms-otp-${publicId}`);
            const label = opts.label ?? `otp-${publicId}`;
            const old = otpPolicyOf(vault.sealRecord());
            vault.store.transaction(() => {
              store.add({ publicId, keyId, privateId, label });
              store.advance(publicId, verified);
              vault.replaceSeal(
                withOtpPolicy(vault.sealRecord(), {
                  keys: [...(old?.keys ?? []), publicId],
                  atUnseal: (old?.atUnseal ?? false) || opts.atUnseal === true,
                }),
              );
            });
            const policy = otpPolicyOf(vault.sealRecord())!;
            vault.record({
              event: 'otp.add',
              subject: publicId,
              result: 'ok',
              details: { label, keyId, atUnseal: policy.atUnseal },
            });
            printJson({ otp: { publicId, label, keyId }, keys: policy.keys, atUnseal: policy.atUnseal });
          } catch (e) {
            vault.record({
              event: 'otp.add',
              subject: publicId,
              result: 'fail',
              details: { error: isHardkmsError(e) ? e.code : 'INTERNAL' },
            });
            throw e;
          }
        });
      } finally {
        key?.fill(0);
        privateId.fill(0);
      }
    },
  );

  globalFlags(
    otp
      .command('remove')
      .description('Remove a YubiKey OTP credential (needs an OTP from an enrolled key)')
      .argument('<publicId>', 'public id (modhex)'),
  ).action(async (publicIdArg: string, opts: GateOpts) => {
    const config = configFrom(opts);
    const publicId = publicIdArg.trim().toLowerCase();
    await withVault(config, 'cli:otp.remove', (vault) => {
      const policy = otpPolicyOf(vault.sealRecord());
      if (!policy?.keys.includes(publicId)) {
        throw new HardkmsError('OTP_UNKNOWN_KEY', `No OTP key with public id ${publicId} is enrolled.`, {
          hint: 'See `hardkms status` for the enrolled ones.',
        });
      }
      const store = new OtpStore(vault.store);
      const next: OtpPolicy = { keys: policy.keys.filter((k) => k !== publicId), atUnseal: policy.atUnseal };
      vault.store.transaction(() => {
        store.remove(publicId);
        vault.replaceSeal(withOtpPolicy(vault.sealRecord(), next));
      });
      vault.record({ event: 'otp.remove', subject: publicId, result: 'ok' });
      printJson({ removed: publicId, keys: next.keys });
    });
  });
}

/**
 * Before any touch (issue 14 item 7): an OTP this command will need is asked for now (on a
 * terminal), and its absence refused now, so no operator touches a YubiKey for a command
 * that cannot run. Read from the seal as wallet.dat holds it (not yet authenticated), so it
 * only fails early: requireOtp, after the unseal, checks the OTP itself (audited).
 */
async function otpBeforeTouch(seal: SealRecord, actor: string): Promise<void> {
  const command = invocation.command || actor.replace(/^cli:/, '');
  const policy = otpPolicyOf(seal);
  if (!policy || !otpRequired(policy, command) || invocation.otp !== undefined) return;
  const typed = process.stdin.isTTY ? await readLine('Touch a YubiKey enrolled for OTP: ') : '';
  if (typed === '') throw otpRequiredError(command, policy);
  invocation.otp = typed;
}

/** The OTP second factor, run by withVault right after every unseal. */
async function requireOtp(vault: Vault, actor: string): Promise<void> {
  const command = invocation.command || actor.replace(/^cli:/, '');
  const given = invocation.otp;
  invocation.otp = undefined; // one OTP, one check
  const otp = await enforceOtp(vault, {
    command,
    given,
    ask: async () => (process.stdin.isTTY ? await readLine('Touch a YubiKey enrolled for OTP: ') : undefined),
    onIgnored: () => warn('--otp was ignored: this vault has no Yubico OTP key (`hardkms otp add`).'),
  });
  const confirmed = invocation.confirmed.splice(0);
  const auth = authoriseReveal(vault, command, otp, confirmed);
  if (auth) setRevealAuthorisation(auth);
}
