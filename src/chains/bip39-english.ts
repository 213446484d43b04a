import { createRequire } from 'node:module';

let words: readonly string[] | undefined;

/**
 * BIP-39's English word list, as bip39 ships it. Read from its JSON file alone: bip39's index
 * loads every language's list, about 50 ms of start-up for each command, for one list; and
 * read on first use, since most commands (getaddress, the daemon's start) need no word.
 */
export function englishWords(): readonly string[] {
  words ??= createRequire(import.meta.url)('bip39/src/wordlists/english.json') as string[];
  return words;
}
