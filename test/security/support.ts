/**
 * The attacks of test/security run against a real signer: a SoftHSM2 token, a real vault
 * and wallet.dat, the daemon's cycle in-process (SignerDaemon + PendingProcessor, as
 * `hardkms daemon` composes them) polling the Tatum-compatible HTTP server of
 * scripts/lib/tatum-api-server.ts. The attacker's side is what the issue describes: a
 * compromised API choosing payloads, or write access to wallet.dat (a second SQLite
 * connection to the same file).
 */
import Database from 'better-sqlite3';
import { TatumBroadcaster } from '../../src/signer/sinks/broadcast.js';
import { pinnedChainId } from '../../src/signer/pipeline/chain-ids.js';
import { SignerDaemon } from '../../src/signer/daemon.js';
import { NodeEvmFiller } from '../../src/signer/pipeline/evm-fill.js';
import { Journal } from '../../src/signer/pipeline/journal.js';
import type { ExternalApprover } from '../../src/signer/pipeline/approval.js';
import type { Policy } from '../../src/signer/pipeline/policy.js';
import { PendingProcessor } from '../../src/signer/pipeline/process-pending.js';
import { TatumClient } from '../../src/signer/source/tatum-client.js';
import type { Vault } from '../../src/vault/vault.js';
import type { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';

export interface Signer {
  daemon: SignerDaemon;
  journal: Journal;
  tatum: TatumClient;
  close(): void;
}

export function inProcessSigner(
  vault: Vault,
  api: FakeTatumApi,
  options: { testnet: boolean; chains: string[]; policy?: Policy; approver?: ExternalApprover; keyCache?: boolean },
): Signer {
  const tatum = new TatumClient({ baseUrl: api.url, apiKey: api.apiKey, clientVersion: 'security-test' });
  const journal = new Journal(vault.store);
  const processor = new PendingProcessor({
    vault,
    journal,
    testnet: options.testnet,
    policy: options.policy,
    approver: options.approver,
    broadcaster: new TatumBroadcaster(tatum),
    evm: new NodeEvmFiller((c) => pinnedChainId(c as 'ETH', options.testnet, {}), new Map()),
    log: () => {},
  });
  const daemon = new SignerDaemon(
    vault,
    tatum,
    processor,
    { chains: options.chains as never, testnet: options.testnet, periodMs: 1000, keyCache: options.keyCache },
    () => {},
  );
  return { daemon, journal, tatum, close: () => tatum.close() };
}

/** What someone with write access to wallet.dat (and no vault secret) does: plain SQL on the file. */
export function withFile<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The outcome of one cycle, or the error that stopped it (a tampered store stops the daemon). */
export async function cycle(s: Signer): Promise<{ error?: { code?: string; message: string } }> {
  try {
    await s.daemon.runCycle();
    return {};
  } catch (e) {
    return { error: { code: (e as { code?: string }).code, message: (e as Error).message } };
  }
}
