import { describe, expect, it } from 'vitest';
import { SignerDaemon } from '../../../src/signer/daemon.js';
import type { PendingProcessor } from '../../../src/signer/pipeline/process-pending.js';
import type { TatumClient } from '../../../src/signer/source/tatum-client.js';
import { createTestVault, openTestVault } from '../../support/vault.js';

function entry(id: string) {
  return {
    signatureId: id,
    chain: 'ETH',
    testnet: true,
    kind: 'privateKey' as const,
    publicData: { address: `0x${Buffer.from(id.padEnd(20, '-')).toString('hex').slice(0, 40)}` },
    wrappedSecret: Buffer.alloc(40, 7),
    mechanism: 'CKM_AES_KEY_WRAP_PAD',
  };
}

// The daemon re-reads the wallet ids only when the store changed (src/signer/daemon.ts
// walletIds): a wallet added or removed by this process or by another one (a CLI command
// beside the running daemon) must be polled, or no longer polled, from the next cycle on.
describe('the ids the daemon polls follow every change of the store', () => {
  it('sees its own writes and those of another connection, and nothing stale', async () => {
    const t = await createTestVault({ testnetOnly: true });
    t.vault.store.addEntries([entry('a-1'), entry('a-2')]);
    const daemon = new SignerDaemon(
      t.vault,
      {} as TatumClient,
      {} as PendingProcessor,
      { chains: ['ETH'], testnet: true, periodMs: 5000 },
      () => {},
    );
    const ids = () => daemon.walletIds('ETH').sort();
    expect(ids()).toEqual(['a-1', 'a-2']);
    expect(ids()).toEqual(['a-1', 'a-2']);

    t.vault.store.addEntries([entry('a-3')]);
    expect(ids()).toEqual(['a-1', 'a-2', 'a-3']);

    // A second unsealed vault on the same file: its own SQLite connection, as a CLI command
    // beside the daemon. (Not sealed here: both share this process's token login.)
    const other = await openTestVault(t.path);
    other.store.addEntries([entry('b-1')]);
    expect(ids()).toEqual(['a-1', 'a-2', 'a-3', 'b-1']);
    other.store.removeEntry('a-1');
    expect(ids()).toEqual(['a-2', 'a-3', 'b-1']);
    // A caller changing the returned list changes nothing for the next cycle.
    daemon.walletIds('ETH').push('injected');
    expect(ids()).toEqual(['a-2', 'a-3', 'b-1']);
    t.vault.seal();
  });
});
