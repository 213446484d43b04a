/**
 * Recovery words as JS strings, for tests only: production keeps a share's words in
 * buffers it wipes (recoveryWordsBuffer, decodeRecoverySheet), since a string cannot be wiped.
 */
import { englishWords } from '../chains/bip39-english.js';
import { decodeRecoverySheet, shareIndices, type RecoveryFormat } from './recovery.js';

export function encodeRecoveryWords(share: Uint8Array, format: RecoveryFormat = 1): string[] {
  return shareIndices(share, format).map((i) => englishWords()[i]!);
}

/** Words back to the sheet's body, whatever its format; the caller wipes it. */
export function decodeRecoveryWords(input: string | readonly string[] | Uint8Array): Buffer {
  return decodeRecoverySheet(input).body;
}
