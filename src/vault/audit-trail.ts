/**
 * The audit trail of a vault on PostgreSQL, in its store (table audit_records): several
 * instances, on several hosts, extend ONE hash chain in the order of the store's writer lock,
 * each record written in the transaction of the append (so with the effect it describes and
 * the authenticated head), and each host's audit.log is a copy of that chain
 * (AuditLog.syncCopy).
 *
 * Why the records in the database, and not one chain per host bound to the shared head: the
 * head is one row, so per-host files fork (each host chains after ITS last record) and an
 * auditor who verifies one host's log sees `ok` while another host's signatures are in no
 * trail they check. One chain in the store keeps the record format, `audit verify`, the token
 * signatures, the authenticated head (meta audit_head_mac, MAC'd under the vault key) and
 * forwarding as they are. A database admin who edits, swaps or deletes a row breaks the hash
 * chain (refused before a host copies it; `audit verify` and the exported trail name the
 * record); one who cuts the tail or restores an older copy of the trail and its head together
 * is caught by every host whose copy went further and by the forwarded copy. `hardkms audit
 * export` writes the stored trail to a file that an auditor verifies offline like any audit.log.
 *
 * wallet.dat has the table too (one schema for both stores) and leaves it empty: beside a
 * file store, audit.log is the trail.
 */
import type { AuditHead, SharedAuditTrail } from '../audit/log.js';
import { META } from './meta-auth.js';
import { authenticatedHeadRecord } from './meta-records.js';
import type { WalletStore } from './store.js';

const tipOf = (row: { seq: number | string; line: string } | undefined): AuditHead | undefined => {
  if (row === undefined) return undefined;
  // The hash as the line holds it: a row whose line was edited fails the chain check anyway.
  const hash = /"hash":"([0-9a-f]{64})"/.exec(row.line)?.[1] ?? '';
  return { seq: Number(row.seq), hash };
};

/** The store's trail, for AuditLog's `shared` option; undefined for wallet.dat (the file is the trail). */
export function storeAuditTrail(store: WalletStore): SharedAuditTrail | undefined {
  if (store.kind !== 'postgres') return undefined;
  const db = store.database;
  return {
    last: () =>
      tipOf(
        db.prepare('SELECT seq, line FROM audit_records ORDER BY seq DESC LIMIT 1').get() as
          { seq: number | string; line: string } | undefined,
      ),
    hashAt: (seq) =>
      tipOf(
        db.prepare('SELECT seq, line FROM audit_records WHERE seq = ?').get(seq) as
          { seq: number | string; line: string } | undefined,
      )?.hash,
    rowsAfter: (seq) =>
      (
        db.prepare('SELECT seq, line FROM audit_records WHERE seq > ? ORDER BY seq').all(seq) as {
          seq: number | string;
          line: string;
        }[]
      ).map((r) => ({ seq: Number(r.seq), line: r.line })),
    insert(records, lines) {
      const insert = db.prepare('INSERT INTO audit_records (seq, line) VALUES (?, ?)');
      records.forEach((r, i) => insert.run(r.seq, lines[i]!));
    },
    head() {
      const h = store.getMetaJson(META.auditHeadAuth, authenticatedHeadRecord);
      return h === undefined ? undefined : { seq: h.seq, hash: h.hash };
    },
    withLock: (fn) => store.transaction(fn),
    inTransaction: () => store.inTransaction(),
  };
}
