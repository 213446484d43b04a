import { describe, expect, it } from 'vitest';
import { isNeverMinable, neverMinableError, neverMinableReason } from '../../../src/signer/sinks/never-minable.js';

describe('never-minable broadcast answers', () => {
  it.each([
    ['Hardhat', 'Nonce too low. Expected nonce to be 1 but got 0.', /nonce was already used/],
    [
      'geth via Tatum',
      '{"statusCode":403,"errorCode":"ethereum.broadcast.failed","message":"Unable to broadcast transaction. nonce too low"}',
      /nonce/,
    ],
    ['geth', 'replacement transaction underpriced', /pays more/],
    ['geth', 'transaction underpriced', /fee is below/],
    ['geth', 'max fee per gas less than block base fee: address 0x.., maxFeePerGas: 1 baseFee: 7', /fee is below/],
    ['bitcoind', 'bad-txns-inputs-missingorspent', /already spent/],
    ['litecoind', 'Missing inputs', /already spent/],
    ['bitcoind', 'txn-mempool-conflict', /same inputs/],
    ['bitcoind', 'min relay fee not met, 100 < 141', /fee is outside/],
    [
      'bitcoind',
      'mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)',
      /signature/,
    ],
    ['TRON via Tatum', '{"code":"TRANSACTION_EXPIRATION_ERROR","message":"transaction expired"}', /expired/],
    [
      'Solana RPC',
      'sendTransaction on https://api.tatum.io/v3/blockchain/node/SOL/<api-key> failed: Transaction simulation failed: Blockhash not found',
      /blockhash expired/,
    ],
  ])('%s: %s', (_who, answer, reason) => {
    expect(neverMinableReason(answer)).toMatch(reason);
  });

  it.each([
    'insufficient funds for gas * price + value', // funds may arrive
    'ECONNRESET',
    'HTTP 502 Bad gateway',
    'request timed out after 30000 ms',
    'already known',
    'Transaction already in block chain',
  ])('keeps re-sending on: %s', (answer) => {
    expect(neverMinableReason(answer)).toBeUndefined();
  });

  it('journal text starts with TX_NEVER_MINABLE and names the release command', () => {
    const text = neverMinableError('0123456789abcdef01234567', 'its nonce was already used', 'nonce too low');
    expect(isNeverMinable(text)).toBe(true);
    expect(text).toContain("'hardkms journal release 0123456789abcdef01234567'");
    expect(isNeverMinable('TX_BROADCAST_FAILED: nonce too low')).toBe(false);
    expect(isNeverMinable(undefined)).toBe(false);
  });
});
