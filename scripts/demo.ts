/**
 * The README's demo: hardkms's main job on this machine, end to end, in a temp dir.
 * Run through scripts/demo.sh (vite-node, so it can run TypeScript as it is).
 *
 * hardkms itself always runs as the BUILT CLI in separate processes (dist/cli/main.js),
 * the way an operator runs it; this script only plays the surroundings (scripts/lib/): the
 * operators (emulated YubiKeys), the application that asks Tatum for transactions, Tatum
 * Cloud (a local stand-in), and the chains (litecoind -regtest, a Hardhat node).
 *
 * stdout: the story, then one JSON summary line ({"demo":"hardkms",...}) for scripts.
 * Everything the child processes print goes to demo.log in the temp dir. Recovery shares
 * never pass stdout or stderr: each operator's share is a file encrypted to that operator
 * (--recovery-out / --recovery-to, age); the demo plays the operators and holds their keys.
 *
 * The steps below run in the order they are written (main); each prints its part of the
 * story and hands the next what it made.
 *
 * Env: HARDKMS_DEMO_KEEP=1 keeps the temp dir (vault, token, log, HTML report).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatEther, formatUnits, parseEther, parseUnits, Wallet } from 'ethers';
import { check, DemoFailure, DemoShell, errorOf, json, type Ran } from './lib/demo-shell.js';
import { EmulatedYubiKeys, Operators } from './lib/demo-operators.js';
import {
  deployTestToken,
  erc20TransferData,
  startHardhatNode,
  tokenBalance,
  type HardhatNode,
} from './lib/hardhat-node.js';
import { LITECOIND_PATH, startLitecoind, type Litecoind, type LitecoinWallet } from './lib/litecoind.js';
import { bitcoreJson, evmPayload, type SpendableOutput } from './lib/payloads.js';
import { FakeTatumApi } from './lib/tatum-api-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const LTC_FEE_SAT = 100_000;
const GWEI = 10n ** 9n;
const OPERATORS = ['alice', 'bob', 'carol'] as const;

const shell = new DemoShell(process.env.HARDKMS_DEMO_KEEP === '1');
const { work, logFile } = shell;
const vaultDir = join(work, 'vault');
const walletPath = join(vaultDir, 'wallet.dat');
const reportPath = join(work, 'audit-report.html');
const operators = new Operators(shell, join(work, 'recovery-shares'));
const yubikeys = new EmulatedYubiKeys(join(work, 'yubikeys'), join(work, 'yubikeys-unplugged'));
const say = (line?: string): void => shell.say(line);

interface Credential {
  id: string;
  label: string;
  serial: number;
}

interface CreatedVault {
  vaultId: string;
  token: { serial: string };
  gate: { threshold: number; credentials: Credential[] };
  recoveryFiles: Array<{ label: string; file: string }>;
}

interface WalletInfo {
  label: string;
  chain: 'LTC' | 'ETH';
  kind: 'mnemonic' | 'private key';
  signatureId: string;
  address: string;
}

interface Wallets {
  ltcM: WalletInfo;
  ltcK: WalletInfo;
  ethM: WalletInfo;
  ethK: WalletInfo;
}

/** The funded outputs of the LTC wallets, as step 3 made them. */
interface LtcFunds {
  m1: SpendableOutput;
  k1: SpendableOutput;
  m2: SpendableOutput;
}

interface Chains {
  ltc: Litecoind;
  hh: HardhatNode;
  api: FakeTatumApi;
  miner: LitecoinWallet;
  mineTo: string;
  tokenAddress: string;
  funds: LtcFunds;
}

interface PendingInfo {
  id: string;
  chain: 'LTC' | 'ETH';
  what: string;
}

/** What the application asked for: the pending transactions, and what the recipients must get. */
interface Asked {
  pending: PendingInfo[];
  ethTo: string;
  ethValue: bigint;
  tokenTo: string;
  tokenValue: bigint;
}

interface TxResult extends PendingInfo {
  txId: string | null;
  confirmations: number;
  mined: boolean;
}

const summary: Record<string, unknown> = { demo: 'hardkms', ok: false, workDir: work, log: logFile, kept: shell.keep };

async function main(): Promise<void> {
  prepare();
  const vault = await initCeremony();
  const wallets = await createWallets();
  const chains = await startChainsAndFund(wallets);
  const asked = await askForTransactions(chains, wallets);
  await signWithTheDaemon(chains, vault, asked.pending);
  await checkOnChain(chains, asked);
  await rotateThenRecover(vault, wallets.ltcM);
  await audit();
}

// ------------------------------------------------------------------ the steps

function prepare(): void {
  check(existsSync(CLI), `${CLI} is missing: build hardkms first (npm run build, or bash scripts/setup.sh).`);
  check(existsSync(LITECOIND_PATH), `${LITECOIND_PATH} is missing: install litecoind (bash scripts/setup.sh does).`);
  mkdirSync(join(work, 'home'), { mode: 0o700 });
  mkdirSync(vaultDir, { mode: 0o700 });
  mkdirSync(join(work, 'yubikeys-unplugged'), { mode: 0o700 });
  say('hardkms demo: a YubiKey-gated vault on a SoftHSM2 token signs Litecoin and Ethereum transactions');
  say('that a Tatum-compatible API hands it, on local chains. Nothing here touches a real network.');
  say(`Work dir: ${work}`);
  say(`Log of every command run here (stdout and stderr): ${logFile}`);
}

async function initCeremony(): Promise<CreatedVault> {
  shell.heading(1, 'Init ceremony: SoftHSM2 token, 2-of-3 YubiKey gate, vault');
  const userPin = randomBytes(16).toString('hex');
  const soPin = randomBytes(16).toString('hex');
  shell.secret(userPin, soPin);
  const tokenDir = join(work, 'token');
  const tok = await shell.run('bash', [join(ROOT, 'hsm', 'init-softhsm2-token.sh'), tokenDir, 'hardkms'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HARDKMS_TOKEN_PIN: userPin, HARDKMS_TOKEN_SO_PIN: soPin },
    shown: `HARDKMS_TOKEN_PIN=(hidden) HARDKMS_TOKEN_SO_PIN=(hidden) hsm/init-softhsm2-token.sh ${tokenDir} hardkms`,
  });
  check(tok.code === 0, `creating the SoftHSM2 token failed (exit ${tok.code}); see the log`);
  say(`   $ hsm/init-softhsm2-token.sh ${tokenDir} hardkms`);
  say('     SoftHSM2 token "hardkms" created, with random user and SO PINs (never shown, never stored by the demo).');

  const init = await hardkms(
    [
      'init',
      '--testnet',
      '--yubikeys',
      '3',
      '--threshold',
      '2',
      '--driver',
      'emulator',
      '--labels',
      OPERATORS.join(','),
      ...(await operators.recoveryArgs(OPERATORS)),
    ],
    { env: { HARDKMS_TOKEN_PIN: userPin } },
  );
  const vault = json<CreatedVault>(init);
  const creds = vault.gate.credentials;
  check(creds.length === 3 && vault.gate.threshold === 2, 'init did not enroll a 2-of-3 gate');
  check(vault.recoveryFiles.length === 3, 'init wrote no recovery share files');
  for (const f of vault.recoveryFiles) await operators.openShareFile(f.file, f.label);
  say(
    `   $ HARDKMS_TOKEN_PIN=… hardkms init --testnet --yubikeys 3 --threshold 2 --driver emulator --labels ${OPERATORS.join(',')}`,
  );
  for (const c of creds) say(`     Touch the YubiKey ${c.label} (serial ${c.serial})…  enrolled as ${c.id}`);
  say(`     Vault ${vault.vaultId} created on token serial ${vault.token.serial} (testnet only).`);
  say('     The token PIN now lives only inside the vault secret, sealed under the YubiKeys: any 2 of the 3 unseal.');
  say(
    `     3 recovery shares, one file per operator in ${operators.sharesDir}, each encrypted to that operator's age key`,
  );
  say('     (--recovery-out / --recovery-to): no share passes stdout, stderr or the log.');
  say('     (Emulated YubiKeys: files in the work dir. A real vault uses --driver ykman and real keys.)');
  summary.vaultId = vault.vaultId;
  return vault;
}

async function createWallets(): Promise<Wallets> {
  shell.heading(2, 'Wallets, created inside the vault (each command unseals with 2 YubiKeys, then seals)');
  const wallets: WalletInfo[] = [];
  for (const [chain, kind] of [
    ['LTC', 'mnemonic'],
    ['LTC', 'private key'],
    ['ETH', 'mnemonic'],
    ['ETH', 'private key'],
  ] as const) {
    let signatureId: string;
    let address: string;
    if (kind === 'mnemonic') {
      signatureId = json<{ signatureId: string }>(
        await hardkms(['generatemanagedwallet', chain, '--testnet']),
      ).signatureId;
      address = await addressOf(signatureId);
    } else {
      const r = await hardkms(['generatemanagedprivatekeybatch', chain, '1', '--testnet']);
      ({ signatureId, address } = JSON.parse(r.stdout.trim().split('\n')[0]!) as {
        signatureId: string;
        address: string;
      });
    }
    wallets.push({ label: `${chain} ${kind}`, chain, kind, signatureId, address });
  }
  say('   $ hardkms generatemanagedwallet LTC --testnet          (mnemonic generated and wrapped in the vault)');
  say('   $ hardkms generatemanagedprivatekeybatch LTC 1 --testnet (key generated inside the token)');
  say('   $ hardkms generatemanagedwallet ETH --testnet; hardkms generatemanagedprivatekeybatch ETH 1 --testnet');
  for (const w of wallets) say(`     ${w.label.padEnd(15)} signature id ${w.signatureId}  address ${w.address}`);
  say('     No mnemonic or private key was printed: the demo never sees them.');
  const [ltcM, ltcK, ethM, ethK] = wallets as [WalletInfo, WalletInfo, WalletInfo, WalletInfo];
  return { ltcM, ltcK, ethM, ethK };
}

async function startChainsAndFund({ ltcM, ltcK, ethM, ethK }: Wallets): Promise<Chains> {
  shell.heading(3, 'Local chains and a local stand-in for Tatum Cloud; funding the wallets');
  // The nodes' data dirs go into the work dir too.
  const nodesDir = join(work, 'nodes');
  mkdirSync(nodesDir, { mode: 0o700 });
  process.env.TMPDIR = nodesDir;
  const [ltcStart, hhStart] = await Promise.allSettled([startLitecoind(), startHardhatNode()]);
  if (ltcStart.status === 'fulfilled') shell.onCleanup('litecoind', () => ltcStart.value.stop());
  if (hhStart.status === 'fulfilled') shell.onCleanup('hardhat node', () => hhStart.value.stop());
  if (ltcStart.status === 'rejected')
    throw new DemoFailure(`litecoind -regtest did not start: ${String(ltcStart.reason)}`);
  if (hhStart.status === 'rejected') throw new DemoFailure(`the Hardhat node did not start: ${String(hhStart.reason)}`);
  const ltc: Litecoind = ltcStart.value;
  const hh: HardhatNode = hhStart.value;
  const api = await FakeTatumApi.start({
    apiKey: `demo-${randomBytes(8).toString('hex')}`,
    nodes: { LTC: { kind: 'utxo', url: ltc.url }, ETH: { kind: 'evm', url: hh.url } },
  });
  shell.onCleanup('local Tatum API', () => api.stop());
  say(
    `   litecoind -regtest (pid ${ltc.pid}) on 127.0.0.1:${ltc.rpcPort}; Hardhat node (pid ${hh.pid}, chain id ${hh.chainId}) on 127.0.0.1:${hh.port}.`,
  );
  say(`   Tatum API: ${api.url}. This is NOT Tatum: it is the local, Tatum-compatible test server`);
  say('   of this repository (scripts/lib/tatum-api-server.ts), standing in for api.tatum.io. It serves');
  say('   POST /v3/kms/pending/{chain} and relays broadcasts to the local nodes.');

  const miner: LitecoinWallet = await ltc.createWallet('miner');
  const mineTo = await miner.getNewAddress('bech32');
  await ltc.generateToAddress(101, mineTo);
  const fund1 = (await miner.rpc.call('sendmany', ['', { [ltcM.address]: 1, [ltcK.address]: 0.5 }])) as string;
  const fund2 = await miner.sendToAddress(ltcM.address, 0.25);
  await ltc.generateToAddress(1, mineTo);
  const funds: LtcFunds = {
    m1: await outputOf(ltc, fund1, ltcM.address, 1),
    k1: await outputOf(ltc, fund1, ltcK.address, 0.5),
    m2: await outputOf(ltc, fund2, ltcM.address, 0.25),
  };
  say(`   LTC: mined 101 blocks, paid 1 + 0.25 LTC to ${ltcM.address} and 0.5 LTC to ${ltcK.address}; mined.`);

  for (const w of [ethM, ethK]) await hh.fund(w.address, parseEther('1'), 1);
  const token = await deployTestToken(hh, 0);
  const tokenAddress = await token.getAddress();
  await (
    await hh
      .signer(0)
      .sendTransaction({ to: tokenAddress, data: erc20TransferData(ethK.address, parseUnits('1000', 18)) })
  ).wait();
  say(`   ETH: 1 ETH each to ${ethM.address} and ${ethK.address}; test ERC-20 "HKT" deployed at ${tokenAddress},`);
  say(`        1000 HKT to ${ethK.address}.`);
  return { ltc, hh, api, miner, mineTo, tokenAddress, funds };
}

async function askForTransactions(
  { ltc, hh, api, miner, tokenAddress, funds }: Chains,
  { ltcM, ltcK, ethM, ethK }: Wallets,
): Promise<Asked> {
  shell.heading(4, 'The application asks Tatum for 4 transactions: they wait as pending for hardkms');
  const { m1, k1, m2 } = funds;
  const destination = async (): Promise<Uint8Array> =>
    Buffer.from(await scriptOf(ltc, await miner.getNewAddress('bech32')), 'hex');
  const pending: PendingInfo[] = [];
  pending.push({
    chain: 'LTC',
    what: `0.6 LTC from the LTC mnemonic wallet (address 0), change back to it`,
    id: api.queue({
      chain: 'LTC',
      hashes: [ltcM.signatureId],
      signatures: [{ id: ltcM.signatureId, index: 0 }],
      serializedTransaction: bitcoreJson(
        [m1],
        [
          { script: await destination(), satoshis: 0.6e8 },
          { script: m1.script, satoshis: 0.4e8 - LTC_FEE_SAT },
        ],
      ),
    }),
  });
  pending.push({
    chain: 'LTC',
    what: `LTC with inputs from both LTC wallets (private key + mnemonic), 0.75 LTC out`,
    id: api.queue({
      chain: 'LTC',
      hashes: [ltcK.signatureId],
      signatures: [{ id: ltcM.signatureId, index: 0 }],
      serializedTransaction: bitcoreJson([k1, m2], [{ script: await destination(), satoshis: 0.75e8 - LTC_FEE_SAT }]),
    }),
  });
  const ethTo = Wallet.createRandom().address;
  const tokenTo = Wallet.createRandom().address;
  const ethValue = parseEther('0.25');
  const tokenValue = parseUnits('250', 18);
  pending.push({
    chain: 'ETH',
    what: `${formatEther(ethValue)} ETH from the ETH mnemonic wallet (EIP-1559; nonce and gas left to the daemon)`,
    id: api.queue({
      chain: 'ETH',
      hashes: [ethM.signatureId],
      index: 0,
      serializedTransaction: evmPayload({
        to: ethTo,
        value: ethValue,
        maxFeePerGas: 50n * GWEI,
        maxPriorityFeePerGas: GWEI,
      }),
    }),
  });
  pending.push({
    chain: 'ETH',
    what: `${formatUnits(tokenValue, 18)} HKT (ERC-20) from the ETH private-key wallet (legacy gas price; nonce and gas left to the daemon)`,
    id: api.queue({
      chain: 'ETH',
      hashes: [ethK.signatureId],
      serializedTransaction: evmPayload({
        to: tokenAddress,
        data: erc20TransferData(tokenTo, tokenValue),
        gasPrice: (await hh.rpc.gasPrice()) * 2n,
      }),
    }),
  });
  for (const p of pending) say(`   pending ${p.id}  ${p.chain}  ${p.what}`);
  return { pending, ethTo, ethValue, tokenTo, tokenValue };
}

async function signWithTheDaemon({ hh, api }: Chains, vault: CreatedVault, pending: PendingInfo[]): Promise<void> {
  shell.heading(5, 'hardkms daemon: unseal with 2 of 3 YubiKeys, sign in the token, broadcast');
  const creds = vault.gate.credentials;
  const cred = (label: string): Credential => creds.find((c) => c.label === label)!;
  const daemonArgs = ['daemon', '--testnet', '--runOnce', '--chain', 'LTC,ETH'];
  const daemonEnv = {
    TATUM_API_KEY: api.apiKey,
    TATUM_API_URL: api.url,
    HARDKMS_RPC_ETH: hh.url,
    HARDKMS_CHAIN_ID_ETH: String(hh.chainId),
  };
  say(`   $ TATUM_API_URL=${api.url} HARDKMS_RPC_ETH=${hh.url} HARDKMS_CHAIN_ID_ETH=${hh.chainId} \\`);
  say(`     hardkms ${daemonArgs.join(' ')}`);

  // Only alice is at her desk: one key is not a quorum.
  yubikeys.unplug(cred('bob').serial);
  yubikeys.unplug(cred('carol').serial);
  const refused = await hardkms(daemonArgs, { env: daemonEnv, mayFail: true });
  const refusal = errorOf(refused);
  check(
    refused.code !== 0 && refusal?.code === 'GATE_QUORUM_NOT_MET',
    `with one YubiKey the daemon should refuse to unseal (exit ${refused.code})`,
  );
  check(api.broadcasts.length === 0, 'something was broadcast without a quorum');
  say("   Only alice's YubiKey is plugged in. The daemon starts sealed and refuses:");
  say(`     ${refusal.code}: ${refusal.error}`);
  say('     Nothing was polled, signed or broadcast.');

  // Bob arrives; carol stays away: 2 of 3 is enough.
  yubikeys.plugIn(cred('bob').serial);
  const daemon = await hardkms(daemonArgs, { env: daemonEnv, mayFail: true });
  yubikeys.plugIn(cred('carol').serial);
  say('   Bob plugs in his YubiKey (carol is away). Run again; the operators see:');
  for (const l of daemon.stderr.split('\n').filter((x) => x.startsWith('Touch the YubiKey'))) say(`     ${l}`);
  const resealed = daemon.stderr.split('\n').filter((x) => x.startsWith('Touch the YubiKey') && x.includes(' again: '));
  say('     Each key is touched twice: the second touch re-seals its share under a new random challenge,');
  say('     so a response recorded today (a tapped cable, a borrowed key) opens nothing after the next unseal.');
  check(daemon.code === 0, `the daemon exited ${daemon.code}: ${errorOf(daemon)?.error ?? 'see the log'}`);
  const audit = readFileSync(join(vaultDir, 'audit.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) =>
        JSON.parse(l) as {
          event: string;
          result: string;
          actor: string;
          subject: string;
          details: Record<string, unknown>;
        },
    );
  const unseal = audit
    .filter((a) => a.event === 'gate.unseal' && a.result === 'ok' && a.actor.split('@')[0] === 'daemon')
    .at(-1);
  const usedLabels = ((unseal?.details.credentials as string[] | undefined) ?? []).map(
    (id) => creds.find((c) => c.id === id)?.label ?? id,
  );
  check(usedLabels.length === 2, 'the audit log has no unseal of the daemon with 2 YubiKeys');
  summary.unseal = {
    threshold: 2,
    enrolled: 3,
    used: usedLabels,
    refusedWithOneKey: true,
    resealedUnderNewChallenges: resealed.length,
  };
  const signed = pending.filter((p) =>
    audit.some((a) => a.event === 'sign' && a.result === 'ok' && a.subject === p.id),
  );
  say(
    `     Unsealed with ${usedLabels.join(' + ')} (2 of 3). Signed ${signed.length} of ${pending.length}; each broadcast through the API; sealed again.`,
  );
  check(api.errorReports.length === 0, `the daemon reported errors to the API: ${JSON.stringify(api.errorReports)}`);
}

async function checkOnChain(
  { ltc, hh, api, mineTo, tokenAddress }: Chains,
  { pending, ethTo, ethValue, tokenTo, tokenValue }: Asked,
): Promise<void> {
  shell.heading(6, 'On chain: every transaction mined');
  await ltc.generateToAddress(1, mineTo);
  say('   litecoind: mined 1 block. Hardhat mines on arrival.');
  const results: TxResult[] = [];
  for (const p of pending) {
    const b = api.broadcasts.find((x) => x.signatureId === p.id && x.txId !== undefined);
    let confirmations = 0;
    let mined = false;
    if (b?.txId !== undefined) {
      if (p.chain === 'LTC') {
        confirmations = Number((await ltc.getRawTransaction(b.txId)).confirmations ?? 0);
        mined = confirmations >= 1;
      } else {
        const receipt = await hh.rpc.getTransactionReceipt(b.txId);
        if (receipt !== null) {
          confirmations = Number((await hh.rpc.blockNumber()) - receipt.blockNumber + 1n);
          mined = receipt.status === 1 && confirmations >= 1;
        }
      }
    }
    results.push({ ...p, txId: b?.txId ?? null, confirmations, mined });
    say(
      `   ${p.chain} ${b?.txId ?? '(not broadcast)'}  ${mined ? `mined, ${confirmations} confirmation${confirmations === 1 ? '' : 's'}` : 'NOT MINED'}`,
    );
  }
  const ethGot = await hh.rpc.getBalance(ethTo);
  const hktGot = await tokenBalance(hh, tokenAddress, tokenTo);
  say(
    `   Recipients received ${formatEther(ethGot)} ETH and ${formatUnits(hktGot, 18)} HKT. Still pending at the API: ${api.pendingIds().length}.`,
  );
  summary.pending = pending.length;
  summary.broadcast = results.filter((r) => r.txId !== null).length;
  summary.mined = results.filter((r) => r.mined).length;
  summary.transactions = results;
  check(
    results.every((r) => r.mined),
    `not every pending transaction was mined: ${results
      .filter((r) => !r.mined)
      .map((r) => r.id)
      .join(', ')}`,
  );
  check(ethGot === ethValue && hktGot === tokenValue, 'the recipients did not receive the amounts asked for');
}

async function rotateThenRecover(vault: CreatedVault, ltcM: WalletInfo): Promise<void> {
  shell.heading(7, 'Rotate, then recover from two share files after every YubiKey is lost');
  const creds = vault.gate.credentials;
  const sharesDir = operators.sharesDir;
  for (const c of creds) yubikeys.plugIn(c.serial);
  const filesBefore = new Map(vault.recoveryFiles.map((f) => [f.label, readFileSync(f.file, 'latin1')]));
  const rotate = await hardkms(['rotate', ...(await operators.recoveryArgs(OPERATORS))]);
  const rotated = json<{
    tokenPinRotated: boolean;
    storeRekeyed: boolean;
    recoveryFiles: Array<{ label: string; file: string }>;
  }>(rotate);
  const rotateTouches = rotate.stderr.split('\n').filter((l) => l.startsWith('Touch the YubiKey'));
  check(rotated.tokenPinRotated && rotated.storeRekeyed, 'rotate did not change the token PIN and the store key');
  check(
    rotated.recoveryFiles.length === 3 &&
      rotated.recoveryFiles.every((f) => filesBefore.get(f.label) !== readFileSync(f.file, 'latin1')),
    'rotate did not replace every share file',
  );
  say(`   $ hardkms rotate --recovery-out ${sharesDir} --recovery-to alice=age1…,bob=age1…,carol=age1…`);
  for (const l of rotateTouches) say(`     ${l}`);
  say(
    '     New challenges for every key, a new random token PIN and a new store key (every wallet row re-authenticated),',
  );
  say('     in one transaction; new share files replace the old ones: old sheets and old backups open nothing now.');

  // Every YubiKey is lost: alice and bob open their (new) share files with their own age keys.
  for (const c of creds) yubikeys.unplug(c.serial);
  const sheets: string[] = [];
  for (const label of ['alice', 'bob'])
    sheets.push(await operators.openShareFile(rotated.recoveryFiles.find((f) => f.label === label)!.file, label));
  const successors = ['dave', 'erin', 'frank'];
  const recover = await shell.run(
    process.execPath,
    [
      CLI,
      'recover',
      '--labels',
      successors.join(','),
      ...(await operators.recoveryArgs(successors)),
      '--path',
      walletPath,
    ],
    {
      env: cliEnv(),
      shown: `hardkms recover --labels ${successors.join(',')} --recovery-out ${sharesDir} --recovery-to … --path ${walletPath}  (2 shares on stdin)`,
      input: `${sheets.join('\n')}\n`,
    },
  );
  check(recover.code === 0, `recover exited ${recover.code}: ${errorOf(recover)?.error ?? 'see the log'}`);
  const recovered = json<{ gate: { credentials: Credential[] }; storeRekeyed: boolean; recoveryFiles: unknown[] }>(
    recover,
  );
  check(
    recovered.storeRekeyed && recovered.recoveryFiles.length === 3,
    'recover did not re-key the store and write new share files',
  );
  say(
    '   All three YubiKeys are lost. alice and bob decrypt their share files (age -d -i their key) and type the words:',
  );
  say(`   $ hardkms recover --labels ${successors.join(',')} --recovery-out ${sharesDir} --recovery-to dave=age1…,…`);
  say(
    `     ${recovered.gate.credentials.map((c) => `${c.label} (serial ${c.serial})`).join(', ')} enrolled in place of every old key;`,
  );
  say('     new token PIN, new store key, new share files. The old keys (if found) open nothing.');
  const after = await addressOf(ltcM.signatureId);
  check(after === ltcM.address, `after recover, the LTC wallet derives ${after}, not ${ltcM.address}`);
  say(`   $ hardkms getaddress ${ltcM.signatureId} 0   (touching two of the new keys)`);
  say(`     ${after}: the wallets are the same, only the gate changed.`);
  summary.rotateRecover = {
    rotateTouches: rotateTouches.length,
    shareFilesReplaced: rotated.recoveryFiles.length,
    recoveredWith: ['alice', 'bob'],
    enrolled: recovered.gate.credentials.map((c) => c.label),
    sameAddressAfter: after === ltcM.address,
  };
}

async function audit(): Promise<void> {
  shell.heading(8, 'The auditor: verify the signed audit log offline, and the HTML report');
  const verify = json<{ ok: boolean; records: number; signed: number; unsignedTail: number; headChecked: boolean }>(
    await hardkms(['audit', 'verify'], { mayFail: true }),
  );
  summary.auditVerify = verify;
  say('   $ hardkms audit verify');
  say(
    `     ${verify.ok ? 'OK' : 'FAILED'}: ${verify.records} records, hash-chained; ${verify.signed} signed by the token's audit key (the rest covered by a later signature);` +
      ` head ${verify.headChecked ? 'matches wallet.dat' : 'not checked'}.`,
  );
  check(verify.ok, 'audit verify failed');
  const report = json<{
    ok: boolean;
    ceremonies: number;
    signatures: number;
    unwraps: number;
    broadcasts: number;
    anomalies: Record<string, number>;
  }>(await hardkms(['audit', 'report', '--html', reportPath]));
  summary.auditReport = { ...report, html: shell.keep ? reportPath : null };
  say(`   $ hardkms audit report --html ${reportPath}`);
  say(
    `     ${report.ceremonies} unseal ceremonies (the refused one included), ${report.signatures} signatures, ${report.broadcasts} broadcasts;` +
      ` anomalies: ${report.anomalies.critical ?? 0} critical, ${report.anomalies.warning ?? 0} warning, ${report.anomalies.info ?? 0} info.`,
  );
  say(
    shell.keep
      ? `     Open ${reportPath} in a browser (self-contained, no scripts).`
      : '     The report is deleted with the work dir; run with HARDKMS_DEMO_KEEP=1 to keep it and open it in a browser.',
  );
}

// ------------------------------------------------------------------ hardkms, and the chains' small questions

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // A home of its own: ~/.hardkms/.env of the person running the demo stays out of it.
    HOME: join(work, 'home'),
    SOFTHSM2_CONF: join(work, 'token', 'softhsm2.conf'),
    HARDKMS_TOKEN_LABEL: 'hardkms',
    HARDKMS_YUBIKEY_EMULATOR_DIR: yubikeys.pluggedDir,
    ...extra,
  };
}

/** `hardkms <args> --path <vault>` as its own process. Throws unless it exits 0 (or `mayFail`). */
async function hardkms(
  args: string[],
  options: { env?: Record<string, string>; mayFail?: boolean } = {},
): Promise<Ran> {
  const full = [...args, '--path', walletPath];
  const r = await shell.run(process.execPath, [CLI, ...full], {
    env: cliEnv(options.env),
    shown: `hardkms ${full.join(' ')}`,
  });
  if (r.code !== 0 && options.mayFail !== true) {
    throw new DemoFailure(`\`hardkms ${args[0]}\` exited ${r.code}: ${errorOf(r)?.error ?? 'see the log'}`);
  }
  return r;
}

async function addressOf(signatureId: string): Promise<string> {
  const a = json<{ address: string } | string>(await hardkms(['getaddress', signatureId, '0']));
  return typeof a === 'string' ? a : a.address;
}

async function scriptOf(ltc: Litecoind, address: string): Promise<string> {
  const v = (await ltc.rpc.call('validateaddress', [address])) as { isvalid: boolean; scriptPubKey?: string };
  check(v.isvalid && v.scriptPubKey !== undefined, `litecoind does not accept the address ${address}`);
  return v.scriptPubKey;
}

async function outputOf(ltc: Litecoind, txid: string, address: string, ltcAmount: number): Promise<SpendableOutput> {
  const script = await scriptOf(ltc, address);
  const sat = Math.round(ltcAmount * 1e8);
  const tx = (await ltc.getRawTransaction(txid)) as {
    vout: { n: number; value: number; scriptPubKey: { hex: string } }[];
  };
  const o = tx.vout.find((v) => v.scriptPubKey.hex === script && Math.round(v.value * 1e8) === sat);
  check(o !== undefined, `funding output to ${address} not found in ${txid}`);
  return { txid, vout: o.n, satoshis: sat, script: Buffer.from(script, 'hex') };
}

// ------------------------------------------------------------------ run, report, clean up

let interruptedBy: string | undefined;

async function interrupted(signal: string): Promise<void> {
  interruptedBy = signal;
  process.stderr.write(
    `\ndemo: ${signal} received: stopping the nodes${shell.keep ? '' : ' and removing the work dir'}\n`,
  );
  await shell.cleanup();
  say(
    JSON.stringify({
      ...summary,
      ok: false,
      failedStep: shell.step,
      error: `interrupted by ${signal}`,
      seconds: Number(shell.seconds()),
    }),
  );
  process.exit(130);
}

process.once('SIGINT', () => void interrupted('SIGINT'));
process.once('SIGTERM', () => void interrupted('SIGTERM'));

let failed: unknown;
try {
  await main();
} catch (e) {
  failed = e;
}
const scan = shell.secretScan();
summary.secretScan = scan;
summary.seconds = Number(shell.seconds());
if (interruptedBy !== undefined) failed = new DemoFailure(`interrupted by ${interruptedBy}`);
if (failed === undefined && scan.found > 0)
  failed = new DemoFailure(`${scan.found} secret(s) the demo knows appeared in its output or log`);
say();
if (failed === undefined) {
  summary.ok = true;
  say(
    `Result: ${summary.mined}/${summary.pending} pending transactions signed, broadcast and mined; audit verify passed; no secret in the output or log (${scan.checked} checked). ${shell.seconds()} s.`,
  );
  say(
    shell.keep
      ? `Kept: ${work} (vault, token, emulated YubiKeys, log, report).`
      : 'Cleaning up: nodes stopped, work dir removed (HARDKMS_DEMO_KEEP=1 keeps it).',
  );
} else {
  const message = failed instanceof Error ? failed.message : String(failed);
  summary.failedStep = shell.step;
  summary.error = message;
  say(`FAILED in step ${shell.step}: ${message}`);
  process.stderr.write(`\ndemo: last lines of ${logFile}:\n${shell.logTail(40)}\n`);
  if (!(failed instanceof DemoFailure) && failed instanceof Error && failed.stack)
    process.stderr.write(`${failed.stack}\n`);
  if (!shell.keep) say('The work dir is removed; run again with HARDKMS_DEMO_KEEP=1 to keep it for a look.');
}
await shell.cleanup();
say(JSON.stringify(summary));
process.exit(interruptedBy !== undefined ? 130 : failed === undefined ? 0 : 1);
