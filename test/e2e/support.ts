/**
 * Shared set-up of the daemon's end-to-end tests: a SoftHSM2 token and a password-sealed,
 * testnet-only vault created in-process (cheap scrypt, stored in the seal, so the CLI's
 * unseal is cheap too), wallets stored through the vault API, then the vault sealed so the
 * BUILT CLI (`npm run build` first) can open the same token as a separate process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1';
import Database from 'better-sqlite3';
import { chainKit } from '../../src/chains/kit.js';
import { getChainAdapter } from '../../src/chains/registry.js';
import type { AuditRecord } from '../../src/audit/record.js';
import type { JournalRow } from '../../src/signer/pipeline/journal.js';
import { storeMnemonicEntry } from '../../src/vault/tatum-wallets.js';
import type { Vault } from '../../src/vault/vault.js';
import { importPrivateKey } from '../../src/vault/entry-secrets.js';
import { CLI, collectLog, runCli, type CliResult } from '../support/cli.js';
import type { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { TEST_PASSWORD, type TestVault } from '../support/vault.js';

export const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
export const LEGAL = 'legal winner thank year wave sausage worth useful legal winner thank yellow';

/** A fixed test private key (never a real one): 32 bytes of `n`. */
export function testKey(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export function compressedPub(key: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(key, true);
}

export function addPrivateKey(vault: Vault, chain: string, testnet: boolean, key: Uint8Array): string {
  const adapter = getChainAdapter(chain);
  const entry = importPrivateKey(
    vault,
    { chain, testnet, publicData: (p) => ({ address: adapter.addressFromPublicKey(p, testnet) }) },
    key,
    compressedPub(key),
  );
  vault.store.addEntries([entry]);
  return entry.signatureId;
}

export function addMnemonic(vault: Vault, chain: string, testnet: boolean, words: string): string {
  return storeMnemonicEntry(vault, chainKit(chain), testnet, Buffer.from(words, 'utf8')).signatureId;
}

export function daemonEnv(
  tv: TestVault,
  api: FakeTatumApi,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...tv.token.env,
    TATUM_KMS_PASSWORD: TEST_PASSWORD,
    TATUM_API_KEY: api.apiKey,
    TATUM_API_URL: api.url,
    HARDKMS_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** `hardkms daemon <args> --path <vault>` as a process; resolves when it exits. */
export function runDaemon(
  tv: TestVault,
  api: FakeTatumApi,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(['daemon', ...args, '--path', tv.path], { env: daemonEnv(tv, api, extraEnv), timeoutMs: 120_000 });
}

/** A long-lived daemon process; `lines` collects its stderr log lines. */
export function spawnDaemon(
  tv: TestVault,
  api: FakeTatumApi,
  args: string[],
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...daemonEnv(tv, api, extraEnv) };
  const child = spawn(process.execPath, [CLI, 'daemon', ...args, '--path', tv.path], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      collectLog(`${[...lines, buf].join('\n')}\n`);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

export async function waitFor(cond: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function auditRecords(tv: TestVault): AuditRecord[] {
  return readFileSync(tv.path.replace(/wallet\.dat$/, 'audit.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditRecord);
}

/** The journal as the daemon left it, read without the vault secret (journal rows are not secret). */
export function journalRows(tv: TestVault): Map<string, JournalRow> {
  const db = new Database(tv.path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT * FROM journal').all() as Record<string, string | null>[];
    return new Map(
      rows.map((r) => [
        r.pending_id as string,
        {
          pendingId: r.pending_id as string,
          chain: r.chain as string,
          state: r.state as JournalRow['state'],
          payloadHash: r.payload_hash as string,
          rawTx: r.raw_tx ?? undefined,
          rawTxHash: r.raw_tx_hash ?? undefined,
          chainTxId: r.chain_tx_id ?? undefined,
          error: r.error ?? undefined,
          created: r.created as string,
          updated: r.updated as string,
          claim: r.claim ?? undefined,
          claimedAt: r.claimed_at ?? undefined,
        },
      ]),
    );
  } finally {
    db.close();
  }
}

/** Failure message with the daemon's stderr, for expect(...) context. */
export function explain(r: CliResult): string {
  return `exit ${r.code}\n${r.stderr.slice(-6000)}`;
}
