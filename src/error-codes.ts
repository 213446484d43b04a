/**
 * The closed list of error codes, each with the class that sets the CLI's exit code.
 * Scripts depend on both (docs/runbook.md, "Exit codes"): a new code goes here, in its
 * group, or the build fails; a code is never renamed or moved to another class without an
 * upgrade note.
 *
 *   0 ok · 1 failed (a check, a network or a node said no; integrity findings) · 2 usage
 *   (what was typed or given is malformed) · 3 refused (a rule said no; nothing changed) ·
 *   4 not found · 5 token or gate (the HSM, the YubiKeys, the seal) · 70 internal (a bug) ·
 *   130 cancelled (a signal) · 255 unknown command (as Tatum KMS exits -1)
 */
export const EXIT_CODES = { failed: 1, usage: 2, refused: 3, notFound: 4, tokenOrGate: 5, internal: 70, cancelled: 130 } as const;
export type ExitClass = keyof typeof EXIT_CODES;

const CODES = {
  // usage: malformed input
  USAGE: 'usage',
  INVALID_INPUT: 'usage',
  DAEMON_CONFIG: 'usage',
  KEY_INVALID: 'usage',
  OTP_CRC: 'usage',
  OTP_FORMAT: 'usage',
  PASSWORD_TOO_SHORT: 'usage',
  RECOVERY_CHECKSUM: 'usage',
  RECOVERY_FORMAT: 'usage',
  RECOVERY_OUT_REQUIRED: 'usage',
  RECOVERY_RECIPIENT_INVALID: 'usage',
  RECOVERY_RECIPIENT_MISSING: 'usage',
  RECOVERY_WORD_UNKNOWN: 'usage',
  TATUM_BAD_REQUEST: 'usage',
  UNSUPPORTED_CHAIN: 'usage',
  WALLET_KIND: 'usage',

  // refused: a rule said no
  BACKUP_EXISTS: 'refused',
  CEREMONY_IN_PROGRESS: 'refused',
  DAEMON_INSECURE_TRANSPORT: 'refused',
  DAEMON_MAINNET_REFUSED: 'refused',
  GATE_CONFIRMATION_REQUIRED: 'refused',
  GATE_EMULATOR_REFUSED: 'refused',
  GATE_MAINNET_EMULATED: 'refused',
  GATE_MAINNET_PASSWORD: 'refused',
  GATE_MAINNET_SINGLE_OPERATOR: 'refused',
  GATE_NOT_CONFIRMED: 'refused',
  GATE_QUORUM_TOO_SMALL: 'refused',
  GATE_SINGLE_OPERATOR_REFUSED: 'refused',
  GATE_TOOL_UNTRUSTED: 'refused',
  GATE_TOUCH_NOT_REQUIRED: 'refused',
  HSM_TOKEN_IN_USE: 'refused',
  JOURNAL_NOT_RELEASABLE: 'refused',
  OTP_EXISTS: 'refused',
  OTP_REPLAYED: 'refused',
  OTP_REQUIRED: 'refused',
  POLICY_VIOLATION: 'refused',
  TATUM_TOO_MANY_SIGNATURE_IDS: 'refused',
  TX_WOULD_REVERT: 'refused',
  VAULT_DUPLICATE_ID: 'refused',
  VAULT_EXISTS: 'refused',
  VAULT_PASSWORD_MAINNET: 'refused',
  VAULT_READ_ONLY: 'refused',
  VAULT_TESTNET_ONLY: 'refused',
  VAULT_TOO_NEW: 'refused',

  // not found
  AUDIT_LOG_MISSING: 'notFound',
  AUDIT_PUBKEY_MISSING: 'notFound',
  GATE_UNKNOWN_CREDENTIAL: 'notFound',
  JOURNAL_ROW_MISSING: 'notFound',
  LEGACY_FILE_UNREADABLE: 'notFound',
  OTP_UNKNOWN_KEY: 'notFound',
  VAULT_NOT_FOUND: 'notFound',
  WALLET_NOT_FOUND: 'notFound',
  WALLET_NO_ADDRESS: 'notFound',
  WALLET_NO_MNEMONIC: 'notFound',

  // token or gate: the HSM, the YubiKeys, the seal
  GATE_BAD_CHALLENGE: 'tokenOrGate',
  GATE_BAD_SLOT: 'tokenOrGate',
  GATE_DRIVER_FAILED: 'tokenOrGate',
  GATE_NOT_CONFIGURED: 'tokenOrGate',
  GATE_NO_YUBIKEY: 'tokenOrGate',
  GATE_PASSPHRASE_REQUIRED: 'tokenOrGate',
  GATE_QUORUM_NOT_MET: 'tokenOrGate',
  GATE_RECORD_INVALID: 'tokenOrGate',
  GATE_RECOVERY_FAILED: 'tokenOrGate',
  GATE_RECOVERY_PASSPHRASE: 'tokenOrGate',
  GATE_SECRET_MISMATCH: 'tokenOrGate',
  GATE_SHAMIR_INVALID: 'tokenOrGate',
  GATE_SLOT_NOT_PROGRAMMED: 'tokenOrGate',
  GATE_TIMEOUT: 'tokenOrGate',
  GATE_WRONG_RESPONSE: 'tokenOrGate',
  HSM_BINDING_MISMATCH: 'tokenOrGate',
  HSM_CIPHERTEXT_REJECTED: 'tokenOrGate',
  HSM_FAILED: 'tokenOrGate',
  HSM_INIT_FAILED: 'tokenOrGate',
  HSM_KEY_MISSING: 'tokenOrGate',
  HSM_MECHANISM_UNSUPPORTED: 'tokenOrGate',
  HSM_MODULE_NOT_FOUND: 'tokenOrGate',
  HSM_NOT_LOGGED_IN: 'tokenOrGate',
  HSM_PIN_LOCKED: 'tokenOrGate',
  HSM_PLATFORM_UNSUPPORTED: 'tokenOrGate',
  HSM_PROFILE_INVALID: 'tokenOrGate',
  HSM_PROFILE_UNKNOWN: 'tokenOrGate',
  HSM_TOKEN_DAMAGED: 'tokenOrGate',
  HSM_TOKEN_NOT_FOUND: 'tokenOrGate',
  HSM_TOKEN_NOT_PRESENT: 'tokenOrGate',
  HSM_TOKEN_UNREPAIRABLE: 'tokenOrGate',
  HSM_WRONG_PIN: 'tokenOrGate',
  HSM_WRONG_TOKEN: 'tokenOrGate',
  KEY_WIPED: 'tokenOrGate',
  OTP_WRONG_KEY: 'tokenOrGate',
  SEAL_KDF_INVALID: 'tokenOrGate',
  SEAL_PROVIDER_MISMATCH: 'tokenOrGate',
  SEAL_PROVIDER_UNKNOWN: 'tokenOrGate',
  TOKEN_CHECK_UNSUPPORTED: 'tokenOrGate',
  VAULT_PIN_DROPPED: 'tokenOrGate',
  VAULT_REKEYED: 'tokenOrGate',
  VAULT_SEALED: 'tokenOrGate',
  VAULT_SECRET_INVALID: 'tokenOrGate',
  WRONG_PASSWORD: 'tokenOrGate',

  // failed: checks, integrity findings, the network and the nodes
  AUDIT_CRITICAL_ANOMALY: 'failed',
  AUDIT_FORWARDED_DIVERGES: 'failed',
  AUDIT_FORWARD_DOWN: 'failed',
  AUDIT_HEAD_MISMATCH: 'failed',
  AUDIT_LOG_CORRUPT: 'failed',
  AUDIT_LOG_PATH_MISMATCH: 'failed',
  AUDIT_PUBKEY_INVALID: 'failed',
  AUDIT_PUBKEY_MISMATCH: 'failed',
  AUDIT_VERIFY_FAILED: 'failed',
  DAEMON_API_UNREACHABLE: 'failed',
  DAEMON_NODE_FAILED: 'failed',
  DAEMON_NODE_WRONG_CHAIN: 'failed',
  DAEMON_RUN_FAILED: 'failed',
  DIGEST_INVALID: 'failed',
  HTTP_BAD_JSON: 'failed',
  HTTP_NETWORK: 'failed',
  HTTP_RESPONSE_TOO_LARGE: 'failed',
  HTTP_STATUS: 'failed',
  HTTP_TIMEOUT: 'failed',
  JOURNAL_CLAIM_LOST: 'failed',
  JOURNAL_RAW_TX_MISMATCH: 'failed',
  LEGACY_ADDRESS_MISMATCH: 'failed',
  LEGACY_ENTRY_INVALID: 'failed',
  LEGACY_FORMAT: 'failed',
  LEGACY_WRONG_PASSWORD: 'failed',
  LEGACY_XPUB_MISMATCH: 'failed',
  OTP_POLICY_INVALID: 'failed',
  OTP_ROW_MISSING: 'failed',
  OTP_ROW_TAMPERED: 'failed',
  RPC_BAD_RESPONSE: 'failed',
  RPC_ERROR: 'failed',
  SIGNATURE_INVALID: 'failed',
  SIGN_BAD_DIGEST: 'failed',
  SIGN_BAD_MESSAGE: 'failed',
  SIGN_KEY_MISMATCH: 'failed',
  STATUS_UNHEALTHY: 'failed',
  TATUM_BAD_RESPONSE: 'failed',
  TX_APPROVAL_UNSENDABLE: 'failed',
  TX_KEY_NOT_RESOLVED: 'failed',
  TX_PAYLOAD_INVALID: 'failed',
  TX_PAYLOAD_MISMATCH: 'failed',
  TX_PAYLOAD_UNSUPPORTED: 'failed',
  TX_SIGNER_MISSING: 'failed',
  TX_PAYLOAD_INCOMPLETE: 'failed',
  VAULT_INCOMPLETE: 'failed',
  VAULT_INNER_REJECTED: 'failed',
  VAULT_META_TAMPERED: 'failed',
  VAULT_NOT_MIGRATED: 'failed',
  VAULT_ROW_TAMPERED: 'failed',
  VAULT_UNREADABLE: 'failed',
  WALLET_XPUB_MISMATCH: 'failed',

  INTERNAL: 'internal',
  CANCELLED: 'cancelled',
} as const satisfies Record<string, ExitClass>;

export type ErrorCode = keyof typeof CODES;

export function exitCodeOf(code: ErrorCode): number {
  return EXIT_CODES[CODES[code]];
}

/** Every code and its class, for the runbook's table and its test. */
export function errorCodeTable(): ReadonlyArray<{ code: ErrorCode; exitClass: ExitClass; exitCode: number }> {
  return (Object.keys(CODES) as ErrorCode[]).map((code) => ({ code, exitClass: CODES[code], exitCode: exitCodeOf(code) }));
}
