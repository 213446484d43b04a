import { journalRowMac, spendRowMac } from './journal-rows.js';
import { OTP_MAC_TABLE } from './otp-store.js';
import { WALLETS_MAC_TABLE, type MacTable, type WalletStore } from './store.js';

type RowMac = (store: Pick<WalletStore, 'macOf'>, row: never) => Buffer;

/** A MacTable from a table's own MAC function: its fields are captured, not restated. */
function fromMacFunction(table: string, key: readonly string[], mac: RowMac): MacTable {
  return {
    table,
    tag: table,
    key,
    fields: (row) => {
      let captured: Array<string | number | Buffer> = [];
      mac(
        {
          macOf: (_tag, fields) => {
            captured = [...fields];
            return Buffer.alloc(0);
          },
        },
        row as never,
      );
      return captured;
    },
  };
}

/**
 * Every table whose rows carry a MAC under the row key. Revoke, rotate and recover give the
 * vault a NEW store key (seal-rotation.ts); WalletStore.rekey then verifies each row of these
 * tables under the old key and re-MACs it under the new one, together with the meta, in one
 * transaction. A table with MAC'd rows that is missing here would fail its checks after the
 * first rotation: add it here (journal / spend ledger rows included, when they get MACs).
 *
 * Why the row-MAC key stays host-derived (from the store key in the sealed vault secret) and
 * does not move into the token as a CKM_SHA256_HMAC generic-secret key:
 *  - the token key would be usable by anyone who holds the token PIN, and the PIN alone must
 *    not be enough to change what the vault trusts (issue 9 item 3): forging a row (swap an
 *    xpub) would then need only the PIN, not the quorum;
 *  - re-keying is needed either way: a token HMAC key survives rotation unless it is replaced,
 *    and replacing it means re-MACing every row just the same;
 *  - every row read would cost a PKCS#11 call (listing 100k wallets, every OTP check), and a
 *    restored token backup would carry the old key.
 * So the rule is: forging a row needs the CURRENT quorum (the current store key); material from
 * before a rotation (old sheets, a revoked key, an old backup) forges nothing afterwards.
 */
export const REKEYED_TABLES: readonly MacTable[] = [
  WALLETS_MAC_TABLE,
  OTP_MAC_TABLE,
  fromMacFunction('journal', ['pending_id'], journalRowMac as RowMac),
  fromMacFunction('journal_spend', ['pending_id', 'scope', 'asset'], spendRowMac as RowMac),
];
