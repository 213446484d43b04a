import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PasswordProvider } from '../../src/vault/password-provider.js';
import { Vault } from '../../src/vault/vault.js';
import { createTestToken, TEST_PIN, type TestToken } from './softhsm.js';

export const TEST_PASSWORD = 'correct horse battery staple';
/** Cheap scrypt for tests; production uses DEFAULT_SCRYPT. */
export const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

export function passwordProvider(password = TEST_PASSWORD): PasswordProvider {
  return new PasswordProvider(async () => Buffer.from(password), FAST_SCRYPT);
}

export interface TestVault {
  token: TestToken;
  dir: string;
  path: string;
  vault: Vault;
}

/** A SoftHSM2 token and an initialised, unsealed vault in a fresh temp dir. */
export async function createTestVault(options: { testnetOnly?: boolean; store?: string } = {}): Promise<TestVault> {
  const token = createTestToken();
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-vault-'));
  // A PostgreSQL store (`store`: its URL) keeps its audit log in the temp dir too.
  const path = options.store ?? join(dir, 'wallet.dat');
  const vault = await Vault.init({
    path,
    ...(options.store !== undefined ? { auditLogPath: join(dir, 'audit.log') } : {}),
    token: {},
    tokenPin: Buffer.from(TEST_PIN),
    provider: passwordProvider(),
    testnetOnly: options.testnetOnly ?? false,
    // Password-sealed vaults are testnet-only unless explicitly allowed; tests of mainnet wallets allow it.
    gatePolicy: { passwordOnMainnet: !(options.testnetOnly ?? false) },
    actor: 'test',
  });
  return { token, dir, path, vault };
}

export function openTestVault(path: string, password = TEST_PASSWORD, auditLogPath?: string): Promise<Vault> {
  return Vault.open({
    path,
    provider: passwordProvider(password),
    actor: 'test',
    ...(auditLogPath !== undefined ? { auditLogPath } : {}),
  });
}
