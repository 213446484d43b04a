import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as util from 'node:util';
import { InputError } from '../errors.js';
import { auditLogMismatch, boundAuditLogPath, defaultLogFor } from '../vault/facts.js';
import { isStoreUrl, parseStoreUrl } from '../vault/pg/url.js';
import { applyEnvFile, ENV_FILE_ALLOWED, readEnv, takeEnvSecret } from './env.js';
import { DEFAULT_API_URL } from '../signer/source/tatum-paths.js';
import { isHttpUrl } from '../http-url.js';

/** Flags every command shares (Tatum's names where Tatum has them). */
export interface GlobalFlags {
  path?: string;
  /** A PostgreSQL store URL (several signers); HARDKMS_STORE_URL otherwise. */
  store?: string;
  auditLog?: string;
  envFile?: string;
  apiKey?: string;
  testnet?: boolean;
  profile?: string;
  allowInsecureHttp?: boolean;
}

/** Everything a command needs from the environment and flags, validated once. */
export interface Config {
  /** wallet.dat's path, or the PostgreSQL store's URL (--store / HARDKMS_STORE_URL). */
  walletPath: string;
  auditLogPath: string;
  token: { modulePath: string | undefined; label: string | undefined; profile: string | undefined };
  apiKey: string | undefined;
  apiUrl: string;
  testnet: boolean;
  emulatorDir: string | undefined;
  envFile: string | undefined;
  /** Variables the env file set that env files may not set (names only). */
  envFileIgnored: string[];
  /** --allow-insecure-http: http:// allowed on mainnet for the Tatum API, approver and nodes. */
  allowInsecureHttp: boolean;
}

const DEFAULT_HOME = join(homedir(), '.hardkms');
const DEFAULT_WALLET_PATH = join(DEFAULT_HOME, 'wallet.dat');

/**
 * The only variables an env file may set: where the Tatum API is and how to reach it, and
 * how much to log. Everything that decides what is signed, with which token, or how TLS is
 * checked (HARDKMS_PKCS11_MODULE, HARDKMS_CHAIN_ID_*, HARDKMS_RPC_*, NODE_*, secrets) comes
 * only from the process environment the operator started hardkms with, or from flags.
 */
export { ENV_FILE_ALLOWED };

interface EnvFileResult {
  /** The file(s) read, if any (comma-separated when both defaults exist). */
  file: string | undefined;
  /** Names (never values) the file set that are not on the allow-list; ignored. */
  ignored: string[];
}

/** Tatum KMS's own default env file (spec §5.3), read after hardkms's so a migrating user's API key is found. */
const TATUM_HOME_ENV_FILE = join(homedir(), '.tatumrc', '.env');

/**
 * Loads --envFile, or else ~/.hardkms/.env and then Tatum's ~/.tatumrc/.env, without
 * overriding variables already set (dotenv's rule, which Tatum KMS follows; the first file
 * wins over the second), and only for ENV_FILE_ALLOWED (env.ts's applyEnvFile). ./.env is read only when --envFile
 * names it (Tatum reads it first, always): a file in whatever directory hardkms happens to
 * start in must not configure a signer.
 */
export function loadEnvFiles(envFile: string | undefined): EnvFileResult {
  if (envFile && !existsSync(resolve(envFile))) {
    throw new InputError(`The env file ${envFile} does not exist.`, 'Fix --envFile or create the file.');
  }
  const candidates = envFile ? [resolve(envFile)] : [join(DEFAULT_HOME, '.env'), TATUM_HOME_ENV_FILE];
  const files = candidates.filter((f) => existsSync(f));
  if (files.length === 0) return { file: undefined, ignored: [] };
  const ignored: string[] = [];
  for (const file of files) {
    for (const k of applyEnvFile(parseEnvText(readFileSync(file, 'utf8')))) if (!ignored.includes(k)) ignored.push(k);
  }
  return { file: files.join(', '), ignored };
}

export function buildConfig(flags: GlobalFlags): Config {
  const env = loadEnvFiles(flags.envFile);
  const walletPath = storeLocation(flags);
  const apiUrl = readEnv('TATUM_API_URL') ?? DEFAULT_API_URL;
  if (!isHttpUrl(apiUrl))
    throw new InputError(`TATUM_API_URL '${apiUrl}' is not an http(s) URL.`, 'Set it to e.g. https://api.tatum.io.');
  const apiKey = flags.apiKey ? Buffer.from(flags.apiKey) : takeEnvSecret('TATUM_API_KEY');
  return {
    walletPath,
    auditLogPath: auditLogPathFor(walletPath, flags.auditLog),
    token: {
      modulePath: readEnv('HARDKMS_PKCS11_MODULE'),
      label: readEnv('HARDKMS_TOKEN_LABEL'),
      profile: flags.profile ?? readEnv('HARDKMS_TOKEN_PROFILE'),
    },
    apiKey: apiKey?.toString('utf8'),
    apiUrl: apiUrl.replace(/\/+$/, ''),
    testnet: flags.testnet === true,
    emulatorDir: readEnv('HARDKMS_YUBIKEY_EMULATOR_DIR'),
    envFile: env.file,
    envFileIgnored: env.ignored,
    allowInsecureHttp: flags.allowInsecureHttp === true,
  };
}

/**
 * wallet.dat (--path), or a PostgreSQL URL (--store, else HARDKMS_STORE_URL unless --path is given). The URL is
 * checked here (TLS with certificate checks, no password in it) so that a bad one stops the
 * command before any prompt. HARDKMS_STORE_URL is not on the env-file allow-list: which
 * store a signer uses is set by the operator's own environment or flags.
 */
function storeLocation(flags: GlobalFlags): string {
  if (flags.path !== undefined && flags.store !== undefined) {
    throw new InputError(
      'Both --path and --store name a store.',
      'Use --path for a wallet.dat file or --store for a PostgreSQL store, not both.',
    );
  }
  // An explicit --path wins over HARDKMS_STORE_URL from the environment.
  const url = flags.store ?? (flags.path === undefined ? readEnv('HARDKMS_STORE_URL') : undefined);
  if (url === undefined) return resolve(flags.path ?? DEFAULT_WALLET_PATH);
  const from = flags.store !== undefined ? '--store' : 'HARDKMS_STORE_URL';
  if (!isStoreUrl(url)) {
    throw new InputError(
      `${from} takes a postgres:// URL, not '${url.slice(0, 80)}'.`,
      'A wallet.dat file is named with --path.',
    );
  }
  parseStoreUrl(url);
  return url;
}

/** The log init bound into the store; --audit-log may name it but never point elsewhere. */
function auditLogPathFor(walletPath: string, flag: string | undefined): string {
  const requested = flag === undefined ? undefined : resolve(flag);
  const bound = boundAuditLogPath(walletPath);
  if (bound !== undefined && requested !== undefined && requested !== bound) {
    throw auditLogMismatch(requested, bound);
  }
  return bound ?? requested ?? defaultLogFor(walletPath);
}

/** util.parseEnv arrived in Node 20.12; this is the same KEY=VALUE subset for older 20.x. */
function parseEnvText(text: string): Record<string, string> {
  const native = (util as { parseEnv?: (t: string) => Record<string, string> }).parseEnv;
  if (native) return native(text);
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const quoted = /^(['"`])(.*)\1$/.exec(value);
    value = quoted ? quoted[2]! : value.replace(/\s+#.*$/, '');
    out[m[1]!] = value;
  }
  return out;
}
