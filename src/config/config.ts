import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as util from 'node:util';
import { InputError } from '../errors.js';
import { defaultAuditLogPath } from '../audit/log.js';

/** Flags every command shares (Tatum's names where Tatum has them). */
export interface GlobalFlags {
  path?: string;
  auditLog?: string;
  envFile?: string;
  apiKey?: string;
  testnet?: boolean;
  profile?: string;
}

/** Everything a command needs from the environment and flags, validated once. */
export interface Config {
  walletPath: string;
  auditLogPath: string;
  token: { modulePath: string | undefined; label: string | undefined; profile: string | undefined };
  apiKey: string | undefined;
  apiUrl: string;
  testnet: boolean;
  emulatorDir: string | undefined;
  envFile: string | undefined;
}

export const DEFAULT_HOME = join(homedir(), '.hardkms');
export const DEFAULT_WALLET_PATH = join(DEFAULT_HOME, 'wallet.dat');
export const DEFAULT_API_URL = 'https://api.tatum.io';

/**
 * Loads ./.env, then --envFile or ~/.hardkms/.env, without overriding variables already
 * set (dotenv's rule, which Tatum KMS follows). Done before anything reads process.env, so
 * TATUM_API_URL from a file applies everywhere (Tatum applies it only half: spec §7.14).
 */
export function loadEnvFiles(envFile: string | undefined): string | undefined {
  const files = [resolve('.env'), envFile ? resolve(envFile) : join(DEFAULT_HOME, '.env')];
  if (envFile && !existsSync(resolve(envFile))) {
    throw new InputError(`The env file ${envFile} does not exist.`, 'Fix --envFile or create the file.');
  }
  let used: string | undefined;
  for (const file of files) {
    if (!existsSync(file)) continue;
    const values = parseEnvText(readFileSync(file, 'utf8'));
    for (const [k, v] of Object.entries(values)) {
      if (process.env[k] === undefined) process.env[k] = v;
    }
    used = file;
  }
  return used;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function buildConfig(flags: GlobalFlags): Config {
  const envFile = loadEnvFiles(flags.envFile);
  const walletPath = resolve(flags.path ?? DEFAULT_WALLET_PATH);
  const apiUrl = nonEmpty(process.env.TATUM_API_URL) ?? DEFAULT_API_URL;
  try {
    const u = new URL(apiUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
  } catch {
    throw new InputError(`TATUM_API_URL '${apiUrl}' is not an http(s) URL.`, 'Set it to e.g. https://api.tatum.io.');
  }
  if (flags.apiKey) process.env.TATUM_API_KEY = flags.apiKey;
  return {
    walletPath,
    auditLogPath: resolve(flags.auditLog ?? defaultAuditLogPath(walletPath)),
    token: {
      modulePath: nonEmpty(process.env.HARDKMS_PKCS11_MODULE),
      label: nonEmpty(process.env.HARDKMS_TOKEN_LABEL),
      profile: flags.profile ?? nonEmpty(process.env.HARDKMS_TOKEN_PROFILE),
    },
    apiKey: nonEmpty(process.env.TATUM_API_KEY),
    apiUrl: apiUrl.replace(/\/+$/, ''),
    testnet: flags.testnet === true,
    emulatorDir: nonEmpty(process.env.HARDKMS_YUBIKEY_EMULATOR_DIR),
    envFile,
  };
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
