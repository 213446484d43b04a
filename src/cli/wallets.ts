import { randomBytes } from 'node:crypto';
import { WalletStore } from '../vault/store.js';
import type { Command } from 'commander';
import { chainKit, chainKitIfSupported, WALLET_CHAINS } from '../chains/kit.js';
import { echoWallet } from '../chains/echo-wallet.js';
import type { AuditEventName } from '../audit/events.js';
import type { Config } from '../config/config.js';
import { EXIT_CODES } from '../error-codes.js';
import { HardkmsError, InputError } from '../errors.js';
import {
  addressNeedsMnemonic,
  exportWallets,
  generateKeyWallet,
  generateManagedWallet,
  generatePrivateKeyBatch,
  getAddress,
  mnemonicAddress,
  prepareImportedPrivateKey,
  revealPrivateKey,
  storeMnemonicEntry,
  tatumEntry,
} from '../vault/tatum-wallets.js';
import { readVaultFacts } from '../vault/facts.js';
import { appendSealedRecord } from '../vault/audit-binding.js';
import { checkNetworkOf } from '../vault/entry-secrets.js';
import { VERSION } from '../version.js';
import { configFrom, revealAuthorisation, withVault } from './context.js';
import { globalFlags } from './flags.js';
import { printJson, warn } from './output.js';
import { startProgress } from './progress.js';
import { deferSignals } from './signals.js';
import { chainSupportLines, walletOnlyChains } from '../signer/source/chain-support.js';
import { readSecret } from './prompt.js';
import { envStatusLines } from '../config/env.js';

type Opts = { testnet?: boolean; path?: string; auditLog?: string; envFile?: string; apiKey?: string };

function index(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n >= 2 ** 31) {
    throw new InputError(
      `The index '${text}' is not a whole number from 0 to 2147483647.`,
      'Pass the derivation index as a plain number, e.g. 0.',
    );
  }
  return n;
}

function count(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1_000_000) {
    throw new InputError(`The count '${text}' is not a whole number from 1 to 1000000.`);
  }
  return n;
}

/**
 * Records a non-signed event when no unsealed vault is at hand (generatewallet prints a
 * secret without opening the vault, as Tatum does): chained into the log beside the store.
 */
function recordUnsealed(config: Config, event: AuditEventName, subject: string): void {
  if (!WalletStore.exists(config.walletPath)) return;
  appendSealedRecord(
    { path: config.walletPath, auditLogPath: config.auditLogPath },
    { event, subject, result: 'ok' },
    'cli:generatewallet',
  );
}

/**
 * Checked before the unseal, so that no operator touches a YubiKey for a command that is
 * refused anyway; the vault checks it again on what the unseal authenticated.
 */
function refuseNetworkEarly(config: Config): void {
  if (!WalletStore.exists(config.walletPath)) return; // the unseal reports the missing store
  checkNetworkOf(
    readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath }).testnetOnly,
    config.testnet,
  );
}

/** Wallets of a chain the daemon does not sign must not look as if they could be spent through it. */
function warnIfNotSigned(chain: string): void {
  if ((walletOnlyChains() as string[]).includes(chain)) {
    warn(
      `the hardkms daemon does not sign ${chain} transactions yet: this wallet is stored and its addresses derived, but pending ${chain} transactions are reported to Tatum as errors, not signed.`,
    );
  }
}

/** Keys per call into the store: each call commits its keys with their audit record; between calls a signal is seen. */
const BATCH_STEP = 500;

export function registerWalletCommands(program: Command): void {
  const chainHelp = `chain code (${WALLET_CHAINS.join(', ')})`;

  globalFlags(
    program
      .command('generatewallet')
      .description('Generate a wallet and print it; nothing is stored')
      .argument('<chain>', chainHelp)
      .option('--testnet', 'testnet'),
  ).action(async (chain: string, opts: Opts) => {
    const config = configFrom(opts);
    const kit = chainKit(chain);
    const entropy = randomBytes(32);
    let wallet;
    try {
      wallet = echoWallet(kit, config.testnet, entropy);
    } finally {
      entropy.fill(0);
    }
    recordUnsealed(config, 'secret.show', `generatewallet ${kit.chain}`);
    printJson(wallet);
  });

  globalFlags(
    program
      .command('generatemanagedwallet')
      .description('Generate a wallet inside the vault; prints its signature id and xpub')
      .argument('<chain>', chainHelp)
      .option('--testnet', 'testnet'),
  ).action(async (chain: string, opts: Opts) => {
    const config = configFrom(opts);
    const kit = chainKit(chain);
    warnIfNotSigned(kit.chain);
    refuseNetworkEarly(config);
    await withVault(config, 'cli:generatemanagedwallet', (vault) => {
      if (kit.curve === 'ed25519' && !kit.generatesMnemonic) {
        const k = generateKeyWallet(vault, kit, config.testnet);
        vault.record({
          event: 'wallet.generate',
          subject: k.signatureId,
          result: 'ok',
          details: { chain: kit.chain, testnet: config.testnet, kind: 'privateKey' },
        });
        printJson({ signatureId: k.signatureId, address: k.address });
        return;
      }
      const r = generateManagedWallet(vault, kit, config.testnet);
      printJson({ signatureId: r.signatureId, xpub: r.xpub });
    });
  });

  globalFlags(
    program
      .command('storemanagedwallet')
      .description('Store a mnemonic you enter (hidden prompt or stdin)')
      .argument('<chain>', chainHelp)
      .option('--testnet', 'testnet'),
  ).action(async (chain: string, opts: Opts) => {
    const config = configFrom(opts);
    const kit = chainKit(chain);
    warnIfNotSigned(kit.chain);
    // One-key chains have no mnemonic: refuse before asking for one (Tatum silently discards it, §7.21).
    kit.requireMnemonicWallets();
    refuseNetworkEarly(config);
    // Stored and derived from exactly as typed, as Tatum KMS does (it never normalised the words).
    // Asked for and checked (words, checksum) before the operators touch their keys.
    const mnemonic = await readSecret('Enter mnemonic to store: ', 'mnemonic');
    try {
      kit.validateTypedMnemonic(mnemonic);
      await withVault(config, 'cli:storemanagedwallet', (vault) => {
        const r = storeMnemonicEntry(vault, kit, config.testnet, mnemonic);
        for (const n of r.notes) warn(n);
        // SOL mnemonic wallets have no xpub: the address of index 0 instead.
        printJson(
          r.xpub !== undefined
            ? { signatureId: r.signatureId, xpub: r.xpub }
            : { signatureId: r.signatureId, address: r.address },
        );
      });
    } finally {
      mnemonic.fill(0);
    }
  });

  globalFlags(
    program
      .command('storemanagedprivatekey')
      .description('Store a private key you enter (hidden prompt or stdin); it is wrapped by the token')
      .argument('<chain>', chainHelp)
      .option('--testnet', 'testnet'),
  ).action(async (chain: string, opts: Opts) => {
    const config = configFrom(opts);
    const kit = chainKit(chain);
    warnIfNotSigned(kit.chain);
    refuseNetworkEarly(config);
    // Asked for and parsed (format, range) before the operators touch their keys.
    const text = await readSecret('Enter private key to store: ', 'private key');
    try {
      const typed = text.toString('utf8').trim();
      (kit.parseWifAsTatum
        ? kit.parseWifAsTatum(typed, config.testnet).key
        : kit.parsePrivateKey(typed, config.testnet)
      ).fill(0);
    } catch (e) {
      text.fill(0);
      throw e;
    }
    await withVault(config, 'cli:storemanagedprivatekey', async (vault) => {
      let entry;
      const notes: string[] = [];
      try {
        entry = prepareImportedPrivateKey(vault, kit, config.testnet, text.toString('utf8').trim(), undefined, notes);
        for (const n of notes) warn(n);
      } finally {
        text.fill(0);
      }
      vault.addEntries([entry], {
        event: 'wallet.store',
        subject: entry.signatureId,
        result: 'ok',
        details: { chain: kit.chain, testnet: config.testnet, kind: 'privateKey' },
      });
      printJson({ signatureId: entry.signatureId });
    });
  });

  globalFlags(
    program
      .command('generatemanagedprivatekeybatch')
      .description('Generate private keys inside the token; one JSON line per key on stdout, progress on stderr')
      .argument('<chain>', chainHelp)
      .argument('<count>', 'how many keys')
      .option('--testnet', 'testnet'),
  ).action(async (chain: string, countText: string, opts: Opts) => {
    const config = configFrom(opts);
    const kit = chainKit(chain);
    warnIfNotSigned(kit.chain);
    const total = count(countText);
    refuseNetworkEarly(config);
    await withVault(config, 'cli:generatemanagedprivatekeybatch', async (vault) => {
      // Once unsealed, Ctrl-C (or SIGTERM) stops between two committed steps: what was
      // printed is stored, and the error says how much (before, the usual handler applies).
      const signals = deferSignals();
      const progress = startProgress('keys generated and stored', total);
      let done = 0;
      try {
        while (done < total && signals.caught() === undefined) {
          // Each step's record is committed with its keys (vault/entry-secrets.ts). Index 0 of a
          // token-generated key, not Tatum's index-1 of a discarded mnemonic (spec §7.20).
          generatePrivateKeyBatch(vault, kit, config.testnet, Math.min(BATCH_STEP, total - done), (chunk) => {
            for (const e of chunk)
              process.stdout.write(`${JSON.stringify({ signatureId: e.signatureId, address: e.address })}\n`);
            done += chunk.length;
            progress.update(done);
          });
          // Lets a signal that came during the step be delivered before the next one.
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        signals.release();
        progress.finish();
      }
      const interrupted = signals.caught();
      if (interrupted !== undefined && done < total) {
        throw new HardkmsError(
          'CANCELLED',
          `Interrupted by ${interrupted} after ${done} of ${total} keys: those ${done} are stored (their lines are on stdout); the other ${total - done} were not generated.`,
          {
            hint: `Run generatemanagedprivatekeybatch ${kit.chain} ${total - done} for the rest.`,
            exitCode: EXIT_CODES.cancelled,
          },
        );
      }
    });
  });

  globalFlags(
    program
      .command('getmanagedwallet')
      .description('Print a stored wallet, secrets included (audited)')
      .argument('<signatureId>', 'signature id'),
  ).action(async (id: string, opts: Opts) => {
    const config = configFrom(opts);
    await withVault(config, 'cli:getmanagedwallet', (vault) => {
      const entry = vault.store.requireEntry(id);
      const view = tatumEntry(vault, entry, chainKitIfSupported(entry.chain));
      vault.record({
        event: 'secret.show',
        subject: id,
        result: 'ok',
        details: { command: 'getmanagedwallet', chain: entry.chain, ...revealAuthorisation() },
      });
      printJson(view);
    });
  });

  globalFlags(
    program
      .command('getprivatekey')
      .description('Print the private key of a wallet at an index (audited)')
      .argument('<signatureId>', 'signature id')
      .argument('<index>', 'derivation index'),
  ).action(async (id: string, indexText: string, opts: Opts) => {
    const config = configFrom(opts);
    const i = index(indexText);
    await withVault(config, 'cli:getprivatekey', (vault) => {
      const entry = vault.store.requireEntry(id);
      const privateKey = revealPrivateKey(vault, entry, chainKitIfSupported(entry.chain), i);
      vault.record({
        event: 'secret.show',
        subject: id,
        result: 'ok',
        details: { command: 'getprivatekey', index: i, chain: entry.chain, ...revealAuthorisation() },
      });
      printJson({ privateKey });
    });
  });

  globalFlags(
    program
      .command('getaddress')
      .description(
        'Print the address of a wallet at an index (no secret is decrypted, except for SOL mnemonic wallets: audited)',
      )
      .argument('<signatureId>', 'signature id')
      .argument('<index>', 'derivation index'),
  ).action(async (id: string, indexText: string, opts: Opts) => {
    const config = configFrom(opts);
    const i = index(indexText);
    await withVault(config, 'cli:getaddress', (vault) => {
      const entry = vault.store.requireEntry(id);
      const kit = chainKitIfSupported(entry.chain);
      if (
        kit !== undefined &&
        addressNeedsMnemonic(entry, kit) &&
        (i !== 0 || entry.publicData.address === undefined)
      ) {
        // SLIP-0010 ed25519 has no public derivation: only the mnemonic gives address i.
        vault.record({
          event: 'unwrap',
          subject: id,
          result: 'ok',
          details: { purpose: 'address', chain: entry.chain, keys: [{ signatureId: id, where: 'host', index: i }] },
        });
        printJson({ address: mnemonicAddress(vault, entry, kit, i) });
        return;
      }
      printJson({ address: getAddress(entry, kit, i) });
    });
  });

  globalFlags(
    program
      .command('removewallet')
      .description('Remove a wallet from the store')
      .argument('<signatureId>', 'signature id'),
  ).action(async (id: string, opts: Opts) => {
    const config = configFrom(opts);
    await withVault(config, 'cli:removewallet', (vault) => {
      vault.store.requireEntry(id);
      vault.removeEntry(id, { event: 'wallet.remove', subject: id, result: 'ok' });
    });
  });

  globalFlags(
    program.command('export').description('Print every wallet, secrets included, in Tatum KMS JSON (audited)'),
  ).action(async (opts: Opts) => {
    const config = configFrom(opts);
    await withVault(config, 'cli:export', (vault) => {
      printJson(
        exportWallets(vault, {
          kitFor: chainKitIfSupported,
          details: revealAuthorisation(),
          progress: (total) => startProgress('wallets exported', total),
        }),
      );
    });
  });

  globalFlags(
    program.command('checkconfig').description('Print the configuration; secrets are never shown, not even in part'),
  ).action((opts: Opts) => {
    const config = configFrom(opts);
    const exists = WalletStore.exists(config.walletPath);
    let storeType = 'none';
    if (exists) {
      try {
        storeType = `HARDWARE (${readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath }).seal.provider} seal)`;
      } catch (e) {
        storeType = `unreadable: ${e instanceof HardkmsError ? e.code : 'error'}`;
      }
    }
    const lines = [
      `Version: ${VERSION}`,
      `Wallet file path: ${config.walletPath}`,
      `Wallet exists: ${exists}`,
      `Wallet store type: ${storeType}`,
      `Audit log: ${config.auditLogPath}`,
      `Environment vars file: ${config.envFile ?? 'none'}`,
      ...chainSupportLines(),
      ...envStatusLines(config.apiKey),
    ];
    // Text by default, as Tatum KMS prints it; --output json gives the same pairs to scripts.
    if ((opts as { output?: string }).output === 'json') {
      printJson(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)])));
      return;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

  globalFlags(
    program
      .command('report')
      .description('Diagnose wallets (no secret is shown)')
      .argument('<signatureIds>', 'comma-separated signature ids'),
  ).action(async (ids: string, opts: Opts) => {
    const config = configFrom(opts);
    const wanted = ids
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    await withVault(config, 'cli:report', (vault) => {
      const wallets: Record<string, unknown> = {};
      const warnings: string[] = [];
      for (const id of wanted) {
        const entry = vault.store.getEntry(id);
        if (!entry) {
          warnings.push(`No such wallet for signatureId '${id}'.`);
          continue;
        }
        const type = entry.kind === 'mnemonic' ? 'MNEMONIC' : entry.kind === 'privateKey' ? 'PRIVATE_KEY' : 'SECRET';
        const w: string[] = [];
        if (!chainKitIfSupported(entry.chain))
          w.push(`hardkms does not sign for chain ${entry.chain}; the entry is kept for export only`);
        wallets[id] = { type, chain: entry.chain, testnet: entry.testnet, ...(w.length ? { warnings: w } : {}) };
      }
      if (!config.apiKey) warnings.push('TATUM_API_KEY is not set');
      printJson({
        system: { kmsVersion: VERSION, nodeVersion: process.version, store: { type: 'HARDWARE', exists: true } },
        wallets,
        apiKey: config.apiKey ? 'set (hidden)' : 'not set',
        ...(warnings.length ? { warnings } : {}),
      });
    });
  });
}
