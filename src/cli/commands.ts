import { Help, type Command } from 'commander';

/**
 * Which file registers which command, and the line each command has in `hardkms --help`.
 *
 * Why a table: loading every command file pulls in the token, the store, every chain
 * library and the daemon (about a second of module loading on a small machine), while a
 * command needs only its own file. `hardkms <command>` loads the file that registers it
 * (and the gate, which every command needs); `hardkms --help` and usage errors are built
 * from the lines below without loading any. test/unit/cli/commands.test.ts checks that
 * these lines are exactly what the files register: a command added to a file must be
 * added here too.
 */

type CommandModule =
  | 'init'
  | 'audit'
  | 'wallets'
  | 'daemon'
  | 'import-legacy'
  | 'list'
  | 'rebind'
  | 'journal'
  | 'store'
  | 'gate'
  | 'token'
  | 'completion';

/** Registration order: the order of `--help`. The gate comes after every command it adds --otp to. */
export const MODULE_ORDER: readonly CommandModule[] = [
  'init',
  'audit',
  'wallets',
  'daemon',
  'import-legacy',
  'list',
  'rebind',
  'journal',
  'store',
  'gate',
  'token',
  'completion',
];

/** Modules loaded whatever the command: the gate registers the YubiKey unseal provider, the OTP check and --otp. */
const ALWAYS: readonly CommandModule[] = ['gate'];

type Register = (program: Command) => void;

const LOADERS: Readonly<Record<CommandModule, () => Promise<Register>>> = {
  init: async () => {
    const [{ registerInit }, { gateInitOptions }] = await Promise.all([import('./init.js'), import('./gate.js')]);
    return (p) => registerInit(p, gateInitOptions);
  },
  audit: async () => (await import('./audit.js')).registerAudit,
  wallets: async () => (await import('./wallets.js')).registerWalletCommands,
  daemon: async () => (await import('./daemon.js')).registerDaemon,
  'import-legacy': async () => (await import('./import-legacy.js')).registerImportLegacy,
  list: async () => (await import('./list.js')).registerList,
  rebind: async () => (await import('./rebind.js')).registerRebind,
  journal: async () => (await import('./journal.js')).registerJournal,
  store: async () => (await import('./store.js')).registerStore,
  gate: async () => (await import('./gate.js')).registerGate,
  token: async () => (await import('./token.js')).registerToken,
  completion: async () => (await import('./completion.js')).registerCompletion,
};

interface CommandLine {
  readonly name: string;
  readonly module: CommandModule;
  /** The command's term in the help list (name, [options], arguments). */
  readonly term: string;
  readonly description: string;
}

/** Every top-level command, in help order. */
export const COMMAND_LINES: readonly CommandLine[] = [
  {
    name: 'init',
    module: 'init',
    term: 'init [options]',
    description:
      'Create a new vault: wallet.dat bound to an HSM token, the token keys, and the seal that releases the vault secret',
  },
  { name: 'audit', module: 'audit', term: 'audit', description: 'Verify and read the tamper-evident audit log' },
  {
    name: 'generatewallet',
    module: 'wallets',
    term: 'generatewallet [options] <chain>',
    description: 'Generate a wallet and print it; nothing is stored',
  },
  {
    name: 'generatemanagedwallet',
    module: 'wallets',
    term: 'generatemanagedwallet [options] <chain>',
    description: 'Generate a wallet inside the vault; prints its signature id and xpub',
  },
  {
    name: 'storemanagedwallet',
    module: 'wallets',
    term: 'storemanagedwallet [options] <chain>',
    description: 'Store a mnemonic you enter (hidden prompt or stdin)',
  },
  {
    name: 'storemanagedprivatekey',
    module: 'wallets',
    term: 'storemanagedprivatekey [options] <chain>',
    description: 'Store a private key you enter (hidden prompt or stdin); it is wrapped by the token',
  },
  {
    name: 'generatemanagedprivatekeybatch',
    module: 'wallets',
    term: 'generatemanagedprivatekeybatch [options] <chain> <count>',
    description: 'Generate private keys inside the token; one JSON line per key on stdout, progress on stderr',
  },
  {
    name: 'getmanagedwallet',
    module: 'wallets',
    term: 'getmanagedwallet [options] <signatureId>',
    description: 'Print a stored wallet, secrets included (audited)',
  },
  {
    name: 'getprivatekey',
    module: 'wallets',
    term: 'getprivatekey [options] <signatureId> <index>',
    description: 'Print the private key of a wallet at an index (audited)',
  },
  {
    name: 'getaddress',
    module: 'wallets',
    term: 'getaddress [options] <signatureId> <index>',
    description:
      'Print the address of a wallet at an index (no secret is decrypted, except for SOL mnemonic wallets: audited)',
  },
  {
    name: 'removewallet',
    module: 'wallets',
    term: 'removewallet [options] <signatureId>',
    description: 'Remove a wallet from the store',
  },
  {
    name: 'export',
    module: 'wallets',
    term: 'export [options]',
    description: 'Print every wallet, secrets included, in Tatum KMS JSON (audited)',
  },
  {
    name: 'checkconfig',
    module: 'wallets',
    term: 'checkconfig [options]',
    description: 'Print the configuration; secrets are never shown, not even in part',
  },
  {
    name: 'report',
    module: 'wallets',
    term: 'report [options] <signatureIds>',
    description: 'Diagnose wallets (no secret is shown)',
  },
  {
    name: 'daemon',
    module: 'daemon',
    term: 'daemon [options]',
    description:
      'Poll the Tatum API for pending transactions of this vault, check, sign in the token and broadcast them',
  },
  {
    name: 'import-legacy',
    module: 'import-legacy',
    term: 'import-legacy [options] <file>',
    description:
      'Move every wallet of a Tatum KMS wallet.dat into this hardware-backed vault, keeping the signature ids',
  },
  {
    name: 'list',
    module: 'list',
    term: 'list [options]',
    description:
      'List the stored wallets: chain, net, signature id, kind, address or xpub, created (no secret; unseals to verify the rows)',
  },
  {
    name: 'rebind',
    module: 'rebind',
    term: 'rebind [options]',
    description: 'Bind the vault to the PKCS#11 module in HARDKMS_PKCS11_MODULE (needs the quorum; audited)',
  },
  {
    name: 'journal',
    module: 'journal',
    term: 'journal',
    description: 'Read the signing journal; release a transaction the network refused for good',
  },
  {
    name: 'store',
    module: 'store',
    term: 'store',
    description: 'Move a vault between wallet.dat and PostgreSQL (several signers)',
  },
  {
    name: 'status',
    module: 'gate',
    term: 'status [options]',
    description:
      'Health check without unsealing: token files and reachability, seal and YubiKeys, backups, wallet counts, audit head, daemon; exit 1 on a problem',
  },
  {
    name: 'enroll',
    module: 'gate',
    term: 'enroll [options]',
    description:
      'Add a YubiKey to the gate: needs a quorum; every key is touched again and new recovery shares are printed',
  },
  {
    name: 'revoke',
    module: 'gate',
    term: 'revoke [options] <credential>',
    description:
      'Remove a YubiKey from the gate (needs a quorum); sets a new token PIN so old shares are useless, prints new recovery shares',
  },
  {
    name: 'rotate',
    module: 'gate',
    term: 'rotate [options]',
    description:
      'New challenges and shares for every key (or a new password), a new random token PIN and store key; new recovery shares',
  },
  {
    name: 'recover',
    module: 'gate',
    term: 'recover [options]',
    description:
      'Rebuild the vault secret from M recovery shares (read one per line) and enroll new YubiKeys in place of all old ones',
  },
  {
    name: 'otp',
    module: 'gate',
    term: 'otp',
    description: 'Yubico OTP as a second factor for the commands that print secrets (or every unseal)',
  },
  {
    name: 'token',
    module: 'token',
    term: 'token',
    description: 'The SoftHSM2 token: check its files, repair them from the verified copy',
  },
  {
    name: 'completion',
    module: 'completion',
    term: 'completion <shell>',
    description: 'Print a shell completion script: source <(hardkms completion bash) (or zsh)',
  },
];

/**
 * The modules to load for this argv (node, script, args…), or undefined when it names no
 * known command (help, --version, no command, a misspelt one): those need only the lines above.
 * Program-level options take no value, so the first word not starting with '-' is the command.
 */
export function modulesFor(argv: readonly string[]): CommandModule[] | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  const line = COMMAND_LINES.find((c) => c.name === name);
  if (line === undefined) return undefined;
  // The completion script is built from every command's flags.
  if (line.module === 'completion') return [...MODULE_ORDER];
  return MODULE_ORDER.filter((m) => m === line.module || ALWAYS.includes(m));
}

/** Registers the given command files on the program, in registration order. */
export async function registerModules(program: Command, modules: readonly CommandModule[]): Promise<void> {
  const ordered = MODULE_ORDER.filter((m) => modules.includes(m));
  const registers = await Promise.all(ordered.map((m) => LOADERS[m]()));
  for (const register of registers) register(program);
}

/** Adds one placeholder per command, for the help list and usage errors; none of them runs. */
export function registerCommandLines(program: Command): void {
  const terms = new Map<Command, string>();
  for (const line of COMMAND_LINES) terms.set(program.command(line.name).description(line.description), line.term);
  const base = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? base.subcommandTerm(cmd) });
}
