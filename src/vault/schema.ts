/**
 * wallet.dat schema. Migrations are append-only: index i brings a store from
 * user_version i to i + 1, inside the same transaction that bumps user_version.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE wallets (
    signature_id   TEXT PRIMARY KEY,
    chain          TEXT NOT NULL,
    testnet        INTEGER NOT NULL CHECK (testnet IN (0, 1)),
    kind           TEXT NOT NULL CHECK (kind IN ('mnemonic', 'privateKey', 'secret')),
    public_data    TEXT NOT NULL,
    wrapped_secret BLOB NOT NULL,
    mechanism      TEXT NOT NULL,
    created        TEXT NOT NULL,
    mac            BLOB NOT NULL
  );
  CREATE INDEX wallets_by_chain ON wallets (chain, testnet);
  CREATE TABLE journal (
    pending_id   TEXT PRIMARY KEY,
    chain        TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('received', 'approved', 'signed', 'broadcast', 'failed')),
    payload_hash TEXT NOT NULL,
    raw_tx       TEXT,
    raw_tx_hash  TEXT,
    chain_tx_id  TEXT,
    error        TEXT,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL
  );
  CREATE INDEX journal_by_state ON journal (state);
  CREATE TABLE otp (
    public_id       TEXT PRIMARY KEY,
    key_id          TEXT NOT NULL,
    private_id_hash TEXT NOT NULL,
    label           TEXT NOT NULL,
    use_counter     INTEGER NOT NULL,
    session_counter INTEGER NOT NULL,
    updated         TEXT NOT NULL,
    mac             BLOB NOT NULL
  );
  `,
  // The signer's spend ledger for rolling limits (policy maxPer24h). Amounts are decimal
  // text: they exceed 64 bits (wei). IF NOT EXISTS: early daemon builds created it themselves.
  `
  CREATE TABLE IF NOT EXISTS journal_spend (
    pending_id TEXT NOT NULL,
    chain      TEXT NOT NULL,
    testnet    INTEGER NOT NULL CHECK (testnet IN (0, 1)),
    scope      TEXT NOT NULL,
    asset      TEXT NOT NULL,
    amount     TEXT NOT NULL,
    created    TEXT NOT NULL,
    PRIMARY KEY (pending_id, scope, asset)
  );
  CREATE INDEX IF NOT EXISTS journal_spend_window ON journal_spend (chain, testnet, scope, asset, created);
  `,
  // Journal and spend rows MAC'd like wallet rows; a journal row can be claimed by one
  // daemon before it unwraps a key; the row sets (row-set.ts) are built at the first
  // unsealed open, which also MACs the rows written before this migration.
  `
  ALTER TABLE journal ADD COLUMN claim TEXT;
  ALTER TABLE journal ADD COLUMN claimed_at TEXT;
  ALTER TABLE journal ADD COLUMN mac BLOB;
  ALTER TABLE journal_spend ADD COLUMN mac BLOB;
  INSERT OR REPLACE INTO meta (key, value) VALUES ('row_sets_adopt', '1');
  `,
  // The audit trail of a store shared by several signers (PostgreSQL: vault/audit-trail.ts):
  // one hash chain for every instance, in the writer lock's order. wallet.dat leaves it empty
  // (audit.log beside it is the trail); it is here so that both stores keep one schema.
  `
  CREATE TABLE audit_records (
    seq  INTEGER PRIMARY KEY,
    line TEXT NOT NULL
  );
  `,
];

export const FORMAT_VERSION = MIGRATIONS.length;
