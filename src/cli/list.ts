import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { WalletEntry } from '../vault/entries.js';
import { configFrom, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { printJson } from './output.js';
import { outputFormat, printTable } from './table.js';

type Opts = {
  path?: string;
  auditLog?: string;
  envFile?: string;
  apiKey?: string;
  chain?: string;
  testnet?: boolean;
  mainnet?: boolean;
  output?: string;
};

/** The row `list` shows: public facts only (never a secret, never a ciphertext). */
function listRow(e: WalletEntry): Record<string, string> {
  return {
    chain: e.chain,
    net: e.testnet ? 'testnet' : 'mainnet',
    signatureId: e.signatureId,
    kind: e.kind,
    addressOrXpub: e.publicData.address ?? e.publicData.xpub ?? '',
    created: e.created,
  };
}

function chainFilter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const chain = value.trim().toUpperCase();
  if (!/^[A-Z0-9_]{2,12}$/.test(chain))
    throw new InputError(`--chain '${value}' is not a chain code.`, 'Pass a code such as BTC, ETH or LTC.');
  return chain;
}

export function registerList(program: Command): void {
  globalFlags(
    program
      .command('list')
      .description(
        'List the stored wallets: chain, net, signature id, kind, address or xpub, created (no secret; unseals to verify the rows)',
      )
      .option('--chain <code>', 'only this chain')
      .option('--testnet', 'only testnet wallets')
      .option('--mainnet', 'only mainnet wallets')
      .option('--output <format>', 'table (text) or json', 'text'),
  ).action(async (opts: Opts) => {
    const format = outputFormat(opts.output);
    if (opts.testnet && opts.mainnet)
      throw new InputError('--testnet and --mainnet exclude each other.', 'Pass one of them, or neither for both.');
    const chain = chainFilter(opts.chain);
    const config = configFrom(opts);
    const rows = await withVault(config, 'cli:list', (vault) => {
      const entries = vault.store.listEntries({
        ...(chain !== undefined ? { chain } : {}),
        ...(opts.testnet ? { testnet: true } : opts.mainnet ? { testnet: false } : {}),
      });
      vault.record({
        event: 'wallet.list',
        subject: 'wallets',
        result: 'ok',
        details: { count: entries.length, chain: chain ?? null },
      });
      return entries.map(listRow);
    });
    if (format === 'json') printJson(rows);
    else
      printTable(rows, ['chain', 'net', 'signatureId', 'kind', 'addressOrXpub', 'created'], `${rows.length} wallet(s)`);
  });
}
