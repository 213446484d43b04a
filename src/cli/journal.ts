import type { Command } from 'commander';
import { Journal, type JournalState } from '../signer/pipeline/journal.js';
import { isNeverMinable } from '../signer/sinks/never-minable.js';
import { InputError } from '../errors.js';
import { configFrom, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { note, printJson } from './output.js';

type Opts = { path?: string; auditLog?: string; envFile?: string; apiKey?: string; state?: string };

const STATES: readonly JournalState[] = ['received', 'approved', 'signed', 'broadcast', 'failed'];

/**
 * `hardkms journal`: the signing journal for operators. `release` is the only way a pending
 * id that was signed can be signed again, and only after the network refused that signature
 * for good (TX_NEVER_MINABLE): it needs the quorum (it unseals) and is audited.
 */
export function registerJournal(program: Command): void {
  const journal = program
    .command('journal')
    .description('Read the signing journal; release a transaction the network refused for good');

  globalFlags(
    journal
      .command('list')
      .description('List journal rows (no raw transactions), optionally of one state; never-minable ones are marked')
      .option('--state <state>', `one of ${STATES.join(', ')}`),
  ).action(async (opts: Opts) => {
    if (opts.state !== undefined && !STATES.includes(opts.state as JournalState)) {
      throw new InputError(`Unknown journal state '${opts.state}'.`, `Use one of ${STATES.join(', ')}.`);
    }
    await withVault(configFrom(opts), 'cli:journal.list', (vault) => {
      const rows = new Journal(vault.store).list(opts.state as JournalState | undefined);
      printJson(
        rows.map((r) => ({
          pendingId: r.pendingId,
          chain: r.chain,
          state: r.state,
          neverMinable: isNeverMinable(r.error),
          ...(r.rawTxHash === undefined ? {} : { rawTxHash: r.rawTxHash }),
          ...(r.chainTxId === undefined ? {} : { txId: r.chainTxId }),
          ...(r.error === undefined ? {} : { error: r.error }),
          updated: r.updated,
        })),
      );
    });
  });

  globalFlags(
    journal
      .command('release')
      .description(
        'Allow a fresh signature of a pending transaction whose signed transaction can never be mined (needs the quorum; audited)',
      )
      .argument('<pendingId>', 'the pending transaction id the daemon reported as TX_NEVER_MINABLE'),
  ).action(async (pendingId: string, opts: Opts) => {
    await withVault(configFrom(opts), 'cli:journal.release', (vault) => {
      let released;
      try {
        released = new Journal(vault.store).releaseNeverMinable(pendingId);
      } catch (e) {
        vault.record({
          event: 'journal.release',
          subject: pendingId,
          result: 'denied',
          details: { pendingId, error: e instanceof Error ? e.message : String(e) },
        });
        throw e;
      }
      vault.record({
        event: 'journal.release',
        subject: pendingId,
        result: 'ok',
        details: {
          pendingId,
          chain: released.chain,
          rawTxHash: released.rawTxHash,
          refusal: released.error.slice(0, 1000),
        },
      });
      note(
        `pending ${pendingId}: the refused signature (raw tx sha256 ${released.rawTxHash}) is forgotten; the next daemon cycle signs it afresh.`,
      );
      printJson({ pendingId, chain: released.chain, released: true, rawTxHash: released.rawTxHash });
    });
  });
}
