/**
 * wallet.dat's schema in PostgreSQL (15+). Index i brings a database from version i to
 * i + 1 and mirrors MIGRATIONS[i] of ../schema.ts, so the two stores always have the same
 * tables, columns and format version (test/unit/vault/pg-schema.test.ts checks the count).
 * Text that is ordered or compared is COLLATE "C" (bytewise, as SQLite compares it);
 * BLOB is bytea. The version lives in hardkms_schema (SQLite's user_version).
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE wallets (
    signature_id   TEXT COLLATE "C" PRIMARY KEY,
    chain          TEXT COLLATE "C" NOT NULL,
    testnet        INTEGER NOT NULL CHECK (testnet IN (0, 1)),
    kind           TEXT NOT NULL CHECK (kind IN ('mnemonic', 'privateKey', 'secret')),
    public_data    TEXT NOT NULL,
    wrapped_secret BYTEA NOT NULL,
    mechanism      TEXT NOT NULL,
    created        TEXT COLLATE "C" NOT NULL,
    mac            BYTEA NOT NULL
  );
  CREATE INDEX wallets_by_chain ON wallets (chain, testnet);
  CREATE TABLE journal (
    pending_id   TEXT COLLATE "C" PRIMARY KEY,
    chain        TEXT COLLATE "C" NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('received', 'approved', 'signed', 'broadcast', 'failed')),
    payload_hash TEXT NOT NULL,
    raw_tx       TEXT,
    raw_tx_hash  TEXT,
    chain_tx_id  TEXT,
    error        TEXT,
    created      TEXT COLLATE "C" NOT NULL,
    updated      TEXT NOT NULL
  );
  CREATE INDEX journal_by_state ON journal (state);
  CREATE TABLE otp (
    public_id       TEXT COLLATE "C" PRIMARY KEY,
    key_id          TEXT NOT NULL,
    private_id_hash TEXT NOT NULL,
    label           TEXT NOT NULL,
    use_counter     INTEGER NOT NULL,
    session_counter INTEGER NOT NULL,
    updated         TEXT NOT NULL,
    mac             BYTEA NOT NULL
  );
  `,
  `
  CREATE TABLE journal_spend (
    pending_id TEXT COLLATE "C" NOT NULL,
    chain      TEXT COLLATE "C" NOT NULL,
    testnet    INTEGER NOT NULL CHECK (testnet IN (0, 1)),
    scope      TEXT COLLATE "C" NOT NULL,
    asset      TEXT COLLATE "C" NOT NULL,
    amount     TEXT NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pending_id, scope, asset)
  );
  CREATE INDEX journal_spend_window ON journal_spend (chain, testnet, scope, asset, created);
  `,
  `
  ALTER TABLE journal ADD COLUMN claim TEXT;
  ALTER TABLE journal ADD COLUMN claimed_at TEXT;
  ALTER TABLE journal ADD COLUMN mac BYTEA;
  ALTER TABLE journal_spend ADD COLUMN mac BYTEA;
  INSERT INTO meta (key, value) VALUES ('row_sets_adopt', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value;
  `,
  `
  CREATE TABLE audit_records (
    seq  BIGINT PRIMARY KEY,
    line TEXT NOT NULL
  );
  `,
];
