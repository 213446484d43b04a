import type { AuditHead, AuditLogStore } from '../../src/audit/log.js';

/** An AuditLog store for logs checked on their own: no lock, the head handed to `onHead` (as the vault's store records it). */
export function headStore(onHead: (head: AuditHead) => void): AuditLogStore {
  let last: AuditHead | undefined;
  return {
    withLock: (fn) => fn(),
    setHead: (head) => {
      last = head;
      onHead(head);
    },
    head: () => last,
  };
}
