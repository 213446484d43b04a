/**
 * Every environment variable hardkms reads, in one table: what it is for, whether it is a
 * secret (read once as bytes and removed from the environment: takeEnvSecret), and whether
 * an env file may set it (the allow-list; everything that decides what is signed, with which
 * token, or how TLS is checked comes only from the process environment the operator started
 * hardkms with). The table feeds `checkconfig`, `--help` and the README's list (a test keeps
 * the README complete). This module is the only one that touches process.env (a test scans
 * src/ for it): code reads variables through readEnv / readEnvFor / takeEnvSecret, so a name
 * not in the table does not build, and env files are applied through applyEnvFile.
 *
 * Each value is read where the command or daemon is set up, once (a daemon does not re-read
 * its environment per cycle); the exceptions say why where they are.
 *
 * No imports: `--help` loads this and nothing else of hardkms.
 */

interface EnvVar {
  name: string;
  /** A family of variables: `${name}${CHAIN}` (e.g. HARDKMS_RPC_ + ETH). */
  perChain?: true;
  secret: boolean;
  /** An env file (--envFile, ~/.hardkms/.env, ~/.tatumrc/.env) may set it. */
  envFile: boolean;
  /** Shown by checkconfig as its value (not a secret; node URLs may carry API keys, so not those). */
  showValue: boolean;
  /** Read only by the test suite's hooks: not listed by checkconfig or --help. */
  testOnly?: true;
  /**
   * The system's, not hardkms's (PATH, HOME): read, but not configuration an operator sets for
   * hardkms, so not listed by checkconfig or --help; the README names them under its table.
   */
  system?: true;
  what: string;
}

export const ENV_VARS = [
  { name: 'TATUM_API_KEY', secret: true, envFile: true, showValue: false, what: 'the Tatum API key' },
  {
    name: 'TATUM_API_URL',
    secret: false,
    envFile: true,
    showValue: true,
    what: 'the Tatum API base URL (default https://api.tatum.io)',
  },
  {
    name: 'HARDKMS_LOG_LEVEL',
    secret: false,
    envFile: true,
    showValue: true,
    what: "the daemon's log level (default info)",
  },
  {
    name: 'TATUM_KMS_PASSWORD',
    secret: true,
    envFile: false,
    showValue: false,
    what: 'password (12+ characters) of a password-sealed vault, testnet-only unless init --allow-password-mainnet; else a hidden prompt',
  },
  {
    name: 'HARDKMS_PKCS11_MODULE',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'PKCS#11 library; default SoftHSM2 at its Debian, Alpine or macOS path; must match the vault binding (hardkms rebind)',
  },
  { name: 'HARDKMS_TOKEN_LABEL', secret: false, envFile: false, showValue: true, what: 'token label, default hardkms' },
  {
    name: 'HARDKMS_TOKEN_PROFILE',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'token profile from hsm/profiles/ (softhsm2, luna, yubihsm2, cloudhsm)',
  },
  {
    name: 'HARDKMS_TOKEN_PIN',
    secret: true,
    envFile: false,
    showValue: false,
    what: 'the token user PIN, read by init only; afterwards it lives in the sealed vault secret',
  },
  {
    name: 'HARDKMS_YUBIKEY_EMULATOR_DIR',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'key files of the YubiKey emulator (CI and demos only; refused on mainnet unless allowed at init)',
  },
  {
    name: 'HARDKMS_YUBIKEY_TIMEOUT',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'seconds an operator has to touch a YubiKey, 1 to 600 (default 15)',
  },
  {
    name: 'HARDKMS_LEGACY_PASSWORD',
    secret: true,
    envFile: false,
    showValue: false,
    what: 'password of a Tatum KMS wallet.dat for import-legacy',
  },
  {
    name: 'HARDKMS_EXTERNAL_URL_SECRET',
    secret: true,
    envFile: false,
    showValue: false,
    what: "the four-eyes approver's HMAC key, when daemon --externalUrlSecret names no file",
  },
  {
    name: 'HARDKMS_RPC_',
    perChain: true,
    secret: false,
    envFile: false,
    showValue: false,
    what: "your own node for a chain (HARDKMS_RPC_ETH, …): EVM gas/nonce fill, --broadcast node; HARDKMS_RPC_SOL replaces Tatum's SOL RPC",
  },
  {
    name: 'HARDKMS_CHAIN_ID_',
    perChain: true,
    secret: false,
    envFile: false,
    showValue: true,
    what: 'override of a pinned EVM chain id (HARDKMS_CHAIN_ID_ETH, …); refused on mainnet',
  },
  {
    name: 'SOFTHSM2_CONF',
    secret: false,
    envFile: false,
    showValue: true,
    what: "SoftHSM2's config (token directory), read by SoftHSM2 and by token check/repair",
  },
  {
    name: 'HARDKMS_STORE_URL',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'postgres:// URL of a PostgreSQL store (instead of --path wallet.dat; no password in it)',
  },
  {
    name: 'PGPASSFILE',
    secret: false,
    envFile: false,
    showValue: true,
    what: 'pgpass file with the PostgreSQL store password (never in the store URL)',
  },
  {
    name: 'PATH',
    system: true,
    secret: false,
    envFile: false,
    showValue: true,
    what: "where enrollment and key listing look first for the YubiKey tools (ykman, ykchalresp); an enrolled key's tool runs by the absolute path recorded then, with PATH=/usr/bin:/bin",
  },
  {
    name: 'HOME',
    system: true,
    secret: false,
    envFile: false,
    showValue: true,
    what: "handed to the YubiKey tools, the only variable of the caller's environment they get (besides a C locale); also the default ~/.hardkms",
  },
  {
    name: 'HARDKMS_TEST_CRASH_AFTER_SIGN',
    testOnly: true,
    secret: false,
    envFile: false,
    showValue: true,
    what: "tests only: the daemon kills itself right after a signature is journaled ('1'), or after Tatum accepted its broadcast, before the journal records it ('broadcast'): crash-safety tests",
  },
] as const satisfies readonly EnvVar[];

type Entry = (typeof ENV_VARS)[number];
type EnvName = Exclude<Entry, { perChain: true }>['name'];
/** Read once as bytes and removed from the environment (takeEnvSecret), never with readEnv. */
type SecretEnvName = Extract<Exclude<Entry, { perChain: true }>, { secret: true }>['name'];
export type PublicEnvName = Exclude<EnvName, SecretEnvName>;
type EnvFamily = Extract<Entry, { perChain: true }>['name'];

/**
 * Where a value is read from: the process environment, or what a test hands in instead
 * (functions that take one default to the process environment here, never in their module).
 */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A variable's value; unset and empty are the same (undefined). */
export function readEnv(name: PublicEnvName, env: EnvSource = process.env): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** `${family}${chain}`, e.g. HARDKMS_RPC_ETH. */
export function envNameFor(family: EnvFamily, chain: string): string {
  return `${family}${chain}`;
}

export function readEnvFor(family: EnvFamily, chain: string, env: EnvSource = process.env): string | undefined {
  const v = env[envNameFor(family, chain)];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Reads a secret from the environment once and removes it from process.env, so that no
 * child process, crash dump of the environment or later module sees it. Later calls in the
 * same process get a copy of the same bytes (the caller wipes its copy).
 */
const taken = new Map<string, Buffer>();
export function takeEnvSecret(name: SecretEnvName): Buffer | undefined {
  const held = taken.get(name);
  if (held) return Buffer.from(held);
  const value = process.env[name];
  delete process.env[name];
  if (value === undefined || value === '') return undefined;
  const bytes = Buffer.from(value, 'utf8');
  taken.set(name, bytes);
  return Buffer.from(bytes);
}

/** The names an env file may set. */
export const ENV_FILE_ALLOWED: readonly string[] = ENV_VARS.filter((v) => v.envFile).map((v) => v.name);

/**
 * Sets what one env file gives, for the names on ENV_FILE_ALLOWED only, without overriding a
 * variable already set (dotenv's rule, which Tatum KMS follows: the operator's environment and
 * an earlier file win). Returns the names (never values) the file gave that are not allowed,
 * in the file's order; they are ignored.
 */
export function applyEnvFile(values: Readonly<Record<string, string>>): string[] {
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (!ENV_FILE_ALLOWED.includes(k)) {
      ignored.push(k);
      continue;
    }
    if (process.env[k] === undefined) process.env[k] = v;
  }
  return ignored;
}

/** The variables an operator sets (the test hooks and the system's variables left out). */
export const OPERATOR_ENV_VARS: readonly EnvVar[] = ENV_VARS.filter((v: EnvVar) => !v.testOnly && !v.system);

/** How the table names a variable: `HARDKMS_RPC_<CHAIN>` for a family. */
export function envDisplayName(v: EnvVar): string {
  return v.perChain ? `${v.name}<CHAIN>` : v.name;
}

/** Lines for `--help`. */
export function envHelpLines(): string[] {
  const width = Math.max(...OPERATOR_ENV_VARS.map((v) => envDisplayName(v).length));
  return [
    'Environment:',
    ...OPERATOR_ENV_VARS.map((v) => `  ${envDisplayName(v).padEnd(width)}  ${v.what}${v.secret ? ' (secret)' : ''}`),
  ];
}

/**
 * checkconfig's view: each variable set or not; a value only where showValue says so
 * (never a character of a secret: Tatum shows six). `apiKey`: TATUM_API_KEY is removed
 * from the environment once read, so the caller passes what it read.
 */
export function envStatusLines(apiKey: string | undefined, env: EnvSource = process.env): string[] {
  const line = (name: string, v: EnvVar, value: string | undefined): string =>
    `${name}: ${value === undefined || value === '' ? 'not set' : v.showValue ? value : 'set (hidden)'}`;
  return OPERATOR_ENV_VARS.flatMap((v) =>
    v.perChain
      ? Object.keys(env)
          .filter((k) => k.startsWith(v.name) && k.length > v.name.length)
          .sort()
          .map((k) => line(k, v, env[k]))
      : [line(v.name, v, v.name === 'TATUM_API_KEY' ? apiKey : env[v.name])],
  );
}
