/**
 * Broadcast answers that mean the signed transaction can never be mined, whatever is
 * re-sent: its nonce was used, its inputs were spent, its fee is below what the network
 * takes, it expired (TRON). Tatum KMS re-signs every cycle, so such a transaction heals
 * itself there (a fresh nonce, fresh inputs) at the price of signing again unasked;
 * hardkms never re-signs silently, so it stops re-sending, reports the transaction in the
 * error batch every cycle, and waits for `hardkms journal release <pendingId>`.
 *
 * Recognised in the text of the node's or Tatum's answer (Tatum relays the node's message
 * in its error body). Deliberately narrow: an answer not listed here (a timeout, a 5xx,
 * "insufficient funds", which can heal when funds arrive) keeps the transaction being re-sent.
 */

interface Rule {
  pattern: RegExp;
  reason: string;
}

const RULES: readonly Rule[] = [
  // EVM: geth / erigon / Hardhat / Tatum's wording.
  { pattern: /nonce too low/i, reason: 'its nonce was already used by another transaction of the account' },
  {
    pattern: /nonce has already been used/i,
    reason: 'its nonce was already used by another transaction of the account',
  },
  {
    pattern: /replacement transaction underpriced/i,
    reason: 'another transaction with its nonce is pending and pays more',
  },
  {
    pattern: /transaction underpriced|gas price (is )?too low|fee too low|feecap too low/i,
    reason: 'its fee is below what the network accepts',
  },
  { pattern: /max fee per gas less than block base fee/i, reason: 'its fee is below what the network accepts' },
  { pattern: /intrinsic gas too low/i, reason: 'its gas limit is below the intrinsic cost of the transaction' },
  { pattern: /exceeds block gas limit/i, reason: 'its gas limit exceeds the block gas limit' },
  // Bitcoin family (bitcoind, litecoind, dogecoind, BCHN), as the node or Tatum relays them.
  {
    pattern: /bad-txns-inputs-missingorspent|missing[- ]?inputs|missing or spent/i,
    reason: 'an input it spends is already spent or does not exist',
  },
  { pattern: /txn-mempool-conflict/i, reason: 'another transaction spending the same inputs is in the mempool' },
  {
    pattern: /bad-txns-inputs-duplicate|bad-txns-in-belowout|bad-txns-vout-negative/i,
    reason: 'the transaction is invalid by consensus rules',
  },
  {
    pattern: /min relay fee not met|min-relay-fee-not-met|insufficient fee|absurdly-high-fee|max-fee-exceeded/i,
    reason: 'its fee is outside what the network relays',
  },
  {
    pattern: /mandatory-script-verify-flag-failed/i,
    reason: 'a signature does not verify (the network will never accept it)',
  },
  // TRON: a transaction carries an expiration; once past it, it never goes in.
  {
    pattern: /TRANSACTION_EXPIRATION_ERROR|transaction expired/i,
    reason: 'it expired (TRON transactions are valid for a limited time)',
  },
  { pattern: /TAPOS_ERROR/i, reason: 'its reference block is no longer valid' },
  // Solana: a signed transaction names a recent blockhash and is valid for ~150 blocks only.
  {
    pattern: /Blockhash not found|BlockhashNotFound|block height exceeded/i,
    reason: 'its blockhash expired (Solana transactions are valid for about a minute)',
  },
];

const NEVER_MINABLE = 'TX_NEVER_MINABLE';

/** Why the answer means "never minable", or undefined when it may still go through. */
export function neverMinableReason(answer: string): string | undefined {
  for (const r of RULES) if (r.pattern.test(answer)) return r.reason;
  return undefined;
}

/** The journal's and the error batch's text for such a transaction; starts with NEVER_MINABLE. */
export function neverMinableError(pendingId: string, reason: string, answer: string): string {
  return (
    `${NEVER_MINABLE}: the signed transaction of pending ${pendingId} can never be mined: ${reason} (answer: ${answer.slice(0, 500)}). ` +
    `hardkms no longer re-sends it and never re-signs by itself. Check the account or inputs on chain, then run ` +
    `'hardkms journal release ${pendingId}' to allow a fresh signature.`
  );
}

export function isNeverMinable(journalError: string | undefined): boolean {
  return journalError !== undefined && journalError.startsWith(`${NEVER_MINABLE}:`);
}
