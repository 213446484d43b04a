import { createRequire } from 'node:module';

/**
 * BIP-39's English word list, as bip39 ships it. Read from its JSON file alone: bip39's index
 * loads every language's list, about 50 ms of start-up for each command, for one list.
 */
export const ENGLISH_WORDS: readonly string[] = createRequire(import.meta.url)(
  'bip39/src/wordlists/english.json',
) as string[];
