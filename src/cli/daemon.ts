import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HardkmsError, InputError } from '../errors.js';
import { ExternalApprover } from '../signer/approval.js';
import { checkTransport, gateWeaknesses, INSECURE_HTTP_FLAG, MAINNET_OVERRIDE_FLAG, mainnetReasons } from '../signer/service.js';
import { NodeBroadcaster, nodeClientFor, TatumBroadcaster, type Broadcaster, type NodeClient } from '../signer/broadcast.js';
import { isEvmSignableChain, pinnedChainId, selectChains } from '../signer/chain-ids.js';
import { chainSupportLines } from '../signer/chain-support.js';
import { SignerDaemon } from '../signer/daemon.js';
import { NodeEvmFiller, tatumFillSource, type EvmFillSource } from '../signer/evm-fill.js';
import { Journal } from '../signer/journal.js';
import { nodeRpcUrlFromEnv, type EvmRpc } from '../signer/node-rpc.js';
import { loadPolicy, type Policy } from '../signer/policy.js';
import { PendingProcessor, type DaemonLog, type LogLevel } from '../signer/process-pending.js';
import { HttpClient } from '../signer/http.js';
import { TatumClient } from '../signer/tatum-client.js';
import { ThorRestNode, VET_PUBLIC_NODES } from '../signer/vet-node.js';
import { readVaultFacts, Vault } from '../vault/vault.js';
import { VERSION } from '../version.js';
import { configFrom, providerFor, runUnsealChecks } from './context.js';
import { globalFlags } from './flags.js';
import { warn } from './output.js';
import type { Logger } from 'pino';
import { createLogger, isLogLevel } from '../signer/logger.js';
import { DaemonMetrics, failureReason } from '../signer/metrics.js';
import { startHealthServer, type HealthState } from '../signer/health-server.js';
import { tokenBackupFor } from './token.js';
import type { Server } from 'node:http';

/**
 * `hardkms daemon`: Tatum KMS's daemon flags, plus:
 *   --policy FILE                          signing policy (src/signer/policy.ts)
 *   --broadcast tatum|node                 where signed transactions go (default tatum)
 *   --externalUrlSecret FILE               HMAC key the approver proves itself with; the key
 *                                          is read from FILE (or env HARDKMS_EXTERNAL_URL_SECRET),
 *                                          never from the command line, which other users can see
 *   --i-understand-mainnet-without-approval  run mainnet without --externalUrl or with a
 *                                          password-sealed vault (audited)
 *   --allow-insecure-http                  mainnet: accept an http:// approver URL (audited)
 *   --allow-unauthenticated-approver       mainnet: accept an approver without --externalUrlSecret (audited)
 * On mainnet --policy is required (default deny: a chain or wallet without a rule is refused).
 * Env: TATUM_API_KEY (required), TATUM_API_URL, HARDKMS_RPC_<CHAIN>, HARDKMS_CHAIN_ID_<CHAIN>,
 * HARDKMS_LOG_LEVEL (debug|info|warn|error, default info). Logs are JSON lines on stderr.
 */

type DaemonOpts = {
  path?: string;
  auditLog?: string;
  envFile?: string;
  apiKey?: string;
  testnet?: boolean;
  period: string;
  chain?: string;
  externalUrl?: string;
  externalUrlMethod?: string;
  externalUrlSecret?: string;
  runOnce?: boolean;
  wallets?: string;
  transactionIds?: string;
  policy?: string;
  keyCache?: boolean;
  broadcast: string;
  iUnderstandMainnetWithoutApproval?: boolean;
  allowInsecureHttp?: boolean;
  allowUnauthenticatedApprover?: boolean;
  metricsAddr?: string;
  logLevel?: string;
};

export { INSECURE_HTTP_FLAG, MAINNET_OVERRIDE_FLAG };
export const UNAUTHENTICATED_APPROVER_FLAG = '--allow-unauthenticated-approver';
/** Test hook: SIGKILL the daemon right after a signature is journaled, before it is broadcast. */
export const TEST_CRASH_ENV = 'HARDKMS_TEST_CRASH_AFTER_SIGN';

function makeLog(levelFlag: string | undefined): { log: DaemonLog; logger: Logger } {
  const level = levelFlag ?? process.env.HARDKMS_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) throw new InputError(`Log level '${level}' is not one of fatal, error, warn, info, debug, trace.`);
  const logger = createLogger(level);
  const log: DaemonLog = (lvl: LogLevel, message, fields) => logger[lvl](fields ?? {}, message);
  return { log, logger };
}

/** Gate failures that mean "not enough operators have touched yet": the daemon waits, sealed. */
const WAIT_FOR_QUORUM = new Set(['GATE_QUORUM_NOT_MET', 'GATE_NO_YUBIKEY', 'GATE_TIMEOUT']);

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function periodMs(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > 86_400)
    throw new InputError(`--period '${text}' is not a number of seconds between 0 and 86400.`, 'E.g. --period 5.');
  return Math.round(n * 1000);
}

function approvalSecret(file: string | undefined): Buffer | undefined {
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new InputError(
        `Cannot read --externalUrlSecret ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
        'Give the path of a file holding the approver HMAC key.',
      );
    }
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    const key = Buffer.from(bytes.subarray(0, end));
    bytes.fill(0);
    if (key.length < 16)
      throw new InputError(`The approver key in ${file} is shorter than 16 bytes.`, 'Use at least 32 random bytes (e.g. openssl rand -hex 32 > FILE).');
    return key;
  }
  const env = process.env.HARDKMS_EXTERNAL_URL_SECRET;
  if (env !== undefined && env !== '') {
    if (env.length < 16) throw new InputError('HARDKMS_EXTERNAL_URL_SECRET is shorter than 16 characters.', 'Use at least 32 random bytes, hex-encoded.');
    return Buffer.from(env, 'utf8');
  }
  return undefined;
}

export function registerDaemon(program: Command): void {
  globalFlags(
    program
      .command('daemon')
      .description('Poll the Tatum API for pending transactions of this vault, check, sign in the token and broadcast them')
      .option('--testnet', 'testnet wallets and chain ids')
      .option('--period <seconds>', 'seconds between polls', '5')
      .option('--chain <codes>', 'comma-separated chains to poll (default: Tatum’s list); chains hardkms does not sign are polled and reported')
      .option('--externalUrl <url>', 'four-eyes approver: GET/POST {url}/{pendingId}, 2xx approves (required on mainnet)')
      .option('--externalUrlMethod <method>', 'GET or POST (POST sends the pending transaction)', 'GET')
      .option('--externalUrlSecret <file>', 'file holding the HMAC key the approver must prove (header x-hardkms-approval)')
      .option('--runOnce', 'one cycle, then exit (non-zero if a transaction failed)')
      .option('--wallets <ids>', 'with --runOnce: these signature ids instead of the vault’s, for every chain')
      .option('--transactionIds <ids>', 'with --runOnce: process only these pending ids')
      .option('--policy <file>', 'signing policy (JSON): limits per chain / wallet, allowed destinations')
      .option(
        '--key-cache',
        "unwrap a private-key wallet's key once per cycle, not once per signature; it stays in the token (sensitive, non-extractable) and is destroyed at the cycle's end (audited)",
      )
      .option('--broadcast <where>', 'tatum (default) or node (HARDKMS_RPC_<CHAIN>)', 'tatum')
      .option(MAINNET_OVERRIDE_FLAG, 'run mainnet without an approver or with a password-sealed vault (audited)')
      .option(
        INSECURE_HTTP_FLAG,
        'mainnet: allow http:// for the Tatum API, the approver and the nodes, e.g. on 127.0.0.1 (audited in every record of the run)',
      )
      .option(UNAUTHENTICATED_APPROVER_FLAG, 'mainnet: accept an approver that proves nothing (no --externalUrlSecret; audited)')
      .option('--metrics-addr <host:port>', 'serve /healthz and /metrics (Prometheus) here, e.g. 127.0.0.1:9464')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (default info, or HARDKMS_LOG_LEVEL)')
      .addHelpText('after', `\n${chainSupportLines().join('\n')}\n`),
  ).action(async (opts: DaemonOpts) => {
    await runDaemon(opts);
  });
}

/** Resolves when the daemon stopped cleanly; throws (non-zero exit) for a --runOnce with failures. */
async function runDaemon(opts: DaemonOpts): Promise<void> {
  const { log, logger } = makeLog(opts.logLevel);
  const config = configFrom(opts);
  const testnet = opts.testnet === true;
  const override = opts.iUnderstandMainnetWithoutApproval === true;
  const period = periodMs(opts.period);
  const selection = selectChains(opts.chain);
  if (opts.broadcast !== 'tatum' && opts.broadcast !== 'node') throw new InputError(`--broadcast '${opts.broadcast}' is neither tatum nor node.`);
  if (opts.externalUrlMethod !== undefined) {
    // As Tatum KMS: POST (here in any case) sends the transaction, anything else is GET.
    const method = opts.externalUrlMethod.trim().toUpperCase();
    if (method !== 'GET' && method !== 'POST')
      warn(`--externalUrlMethod '${opts.externalUrlMethod.slice(0, 20)}' is neither GET nor POST; using GET, as Tatum KMS does.`);
    opts.externalUrlMethod = method === 'POST' ? 'POST' : 'GET';
  }
  if (opts.externalUrl !== undefined) {
    try {
      const u = new URL(opts.externalUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new InputError(`--externalUrl '${opts.externalUrl}' is not an http(s) URL.`);
    }
  }
  if (!opts.runOnce && (opts.wallets !== undefined || opts.transactionIds !== undefined))
    warn('--wallets and --transactionIds apply only with --runOnce; ignored.');
  if (config.apiKey === undefined)
    throw new HardkmsError('DAEMON_CONFIG', 'No Tatum API key.', { hint: 'Set TATUM_API_KEY (or --apiKey, which other users can see in the process list).' });
  const policy: Policy | undefined = opts.policy === undefined ? undefined : loadPolicy(opts.policy);
  const secret = approvalSecret(opts.externalUrlSecret);
  if (secret !== undefined && opts.externalUrl === undefined) throw new InputError('--externalUrlSecret needs --externalUrl.');
  const chainIds = new Map<string, bigint>();
  for (const c of selection.chains) if (isEvmSignableChain(c)) chainIds.set(c, pinnedChainId(c, testnet));

  const facts = readVaultFacts({ path: config.walletPath, auditLogPath: config.auditLogPath });
  const mainnet = mainnetReasons({ testnet, testnetOnly: facts.testnetOnly, seal: facts.seal, externalUrl: opts.externalUrl, override });
  const approverOverrides: { flag: string; reason: string }[] = [];
  if (!testnet) {
    if (policy === undefined) {
      throw new HardkmsError('DAEMON_MAINNET_REFUSED', 'Refusing to sign mainnet transactions without a signing policy (--policy FILE).', {
        hint: 'Write a policy with a rule for each chain (or wallet) the daemon signs for; mainnet refuses what no rule covers. See "Signing policy" in docs/runbook.md.',
      });
    }
    if (opts.externalUrl !== undefined) {
      if (new URL(opts.externalUrl).protocol !== 'https:') {
        if (opts.allowInsecureHttp !== true) {
          throw new HardkmsError(
            'DAEMON_MAINNET_REFUSED',
            `The four-eyes approver ${opts.externalUrl} is not https: on mainnet anyone on the path could answer for it.`,
            {
              hint: `Use an https:// URL, or pass ${INSECURE_HTTP_FLAG} for an approver on this host (audited).`,
            },
          );
        }
        approverOverrides.push({ flag: INSECURE_HTTP_FLAG, reason: 'the approver is reached over plain http' });
      }
      if (secret === undefined) {
        if (opts.allowUnauthenticatedApprover !== true) {
          throw new HardkmsError('DAEMON_MAINNET_REFUSED', 'The four-eyes approver has no secret: on mainnet its answer must prove it saw this transaction.', {
            hint: `Give --externalUrlSecret FILE (see "Four-eyes approver protocol" in docs/runbook.md), or pass ${UNAUTHENTICATED_APPROVER_FLAG} (audited).`,
          });
        }
        approverOverrides.push({ flag: UNAUTHENTICATED_APPROVER_FLAG, reason: 'the approver proves nothing (no --externalUrlSecret)' });
      }
    }
  }

  const nodes = new Map<string, NodeClient>();
  for (const c of selection.chains) {
    const url = nodeRpcUrlFromEnv(c);
    if (url !== undefined) {
      // TRON and VET nodes are not JSON-RPC: TRON's is unused, VET's is read by the VeChain client below.
      if ((c === 'TRON' || c === 'VET') && opts.broadcast !== 'node') continue;
      nodes.set(c, nodeClientFor(c, url));
    } else if (opts.broadcast === 'node') {
      throw new HardkmsError('DAEMON_CONFIG', `--broadcast node, but HARDKMS_RPC_${c} is not set.`, {
        hint: `Set HARDKMS_RPC_${c}, or leave ${c} out of --chain.`,
      });
    }
  }
  const endpoints = [{ what: 'Tatum API', url: config.apiUrl }];
  if (opts.externalUrl !== undefined) endpoints.push({ what: 'approver', url: opts.externalUrl });
  for (const c of selection.chains) {
    const url = nodes.has(c) ? nodeRpcUrlFromEnv(c) : undefined;
    if (url !== undefined) endpoints.push({ what: `HARDKMS_RPC_${c}`, url });
  }
  const vetUrl = selection.chains.includes('VET') ? (nodeRpcUrlFromEnv('VET') ?? (testnet ? VET_PUBLIC_NODES.testnet : VET_PUBLIC_NODES.mainnet)) : undefined;
  if (vetUrl !== undefined && nodeRpcUrlFromEnv('VET') !== undefined) endpoints.push({ what: 'HARDKMS_RPC_VET', url: vetUrl });
  const insecure = checkTransport(testnet, opts.allowInsecureHttp === true, endpoints);
  const insecureRun = !testnet && insecure.length > 0;
  // Named in every audit record of this run: the actor says the run allowed plain http.
  const actor = insecureRun ? `daemon[${INSECURE_HTTP_FLAG.slice(2)}]` : 'daemon';
  const evmNodes = new Map<string, EvmRpc>();
  for (const [c, n] of nodes) if (n.kind === 'evm') evmNodes.set(c, n.rpc);

  const tatum = new TatumClient({ baseUrl: config.apiUrl, apiKey: config.apiKey, clientVersion: VERSION });
  // Without an own node, EVM gaps are filled through the Tatum API as Tatum KMS does (§2.10).
  const tatumFill = new Map<string, EvmFillSource | undefined>();
  const apiKey = config.apiKey;
  const fillHttp = new HttpClient({ timeoutMs: 30_000 });
  const tatumFillFor = (c: string): EvmFillSource | undefined => {
    if (!tatumFill.has(c)) tatumFill.set(c, tatumFillSource(c, { baseUrl: tatum.baseUrl, apiKey, http: fillHttp }));
    return tatumFill.get(c);
  };
  const approver =
    opts.externalUrl === undefined
      ? undefined
      : new ExternalApprover({
          externalUrl: opts.externalUrl,
          ...(opts.externalUrlMethod ? { method: opts.externalUrlMethod } : {}),
          ...(secret ? { secret } : {}),
        });
  secret?.fill(0);
  const broadcaster: Broadcaster = opts.broadcast === 'node' ? new NodeBroadcaster(nodes, tatum) : new TatumBroadcaster(tatum);

  let vault: Vault | undefined;
  let daemon: SignerDaemon | undefined;
  const metrics = new DaemonMetrics();
  metrics.periodSeconds.set(period / 1000);
  const health: HealthState = {
    unsealed: false,
    tokenReachable: () => vault !== undefined && !vault.isSealed && vault.token.random(1).length === 1,
    tokenDamage: () => {
      const c = tokenBackupFor(config)?.check();
      return c?.state === 'damaged' ? `${c.problems.map((p) => `${p.file}: ${p.problem}`).join('; ')} (run \`hardkms token repair\`)` : undefined;
    },
    lastPollAt: undefined,
    lastPollOk: undefined,
    maxPollAgeMs: Math.max(3 * period, 60_000),
  };
  let server: Server | undefined;
  if (opts.metricsAddr !== undefined) {
    server = await startHealthServer(opts.metricsAddr, () => health, metrics);
    log('info', 'health and metrics served', { address: opts.metricsAddr });
  }

  let signal: string | undefined;
  const onSignal = (name: string) => () => {
    signal = name;
    log('info', `${name} received: finishing the transaction in flight, then sealing`);
    daemon?.stop();
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    // Starts sealed; a long-running daemon waits for the quorum (operators touching their
    // YubiKeys) instead of exiting, so /healthz says "sealed" meanwhile.
    for (;;) {
      try {
        vault = await Vault.open({
          path: config.walletPath,
          auditLogPath: config.auditLogPath,
          provider: providerFor(facts.seal, config),
          token: config.token,
          actor,
        });
        break;
      } catch (e) {
        metrics.unsealFailures.inc({ code: e instanceof HardkmsError ? e.code : 'INTERNAL' });
        if (opts.runOnce || signal !== undefined || !(e instanceof HardkmsError) || !WAIT_FOR_QUORUM.has(e.code)) throw e;
        log('warn', 'still sealed: waiting for the YubiKey quorum', { code: e.code, retryInSeconds: period / 1000 });
        await new Promise((r) => setTimeout(r, period));
        if (signal !== undefined) return;
      }
    }
    if (signal !== undefined) return;
    const v = vault;
    v.token.onDestroyFailure = (f) => {
      metrics.keysLeftAlive.inc();
      log('error', 'a session key could not be destroyed: it stays in the token until the session closes', { ...f });
    };
    // The seal is authenticated now (meta MAC): check the gate again on what was verified.
    const weak = testnet ? [] : gateWeaknesses(v.sealRecord());
    if (weak.length > 0) {
      throw new HardkmsError('DAEMON_MAINNET_REFUSED', `Refusing to sign mainnet transactions: ${weak.join('; ')}.`, {
        hint: 'Enroll real YubiKeys and a threshold of at least 2, or re-create the vault with the init flags that accept this.',
      });
    }
    await runUnsealChecks(v, actor);
    // The daemon needs the logged-in session, not the PIN: zero it once the unseal checks
    // (which may re-seal with the full secret) are done.
    v.forgetTokenPin();
    if (insecureRun) {
      v.record({ event: 'daemon.insecure-http', subject: v.vaultId, result: 'info', details: { flag: INSECURE_HTTP_FLAG, endpoints: insecure } });
      warn(`plain http on MAINNET for ${insecure.map((e) => e.what).join(', ')} (${INSECURE_HTTP_FLAG}); this is audited.`);
    }
    health.unsealed = true;
    metrics.unsealed.set(1);
    if (mainnet.length > 0) {
      v.record({ event: 'daemon.mainnet-override', subject: v.vaultId, result: 'info', details: { flag: MAINNET_OVERRIDE_FLAG, reasons: mainnet } });
      warn(`signing MAINNET transactions with ${mainnet.join(' and ')} (${MAINNET_OVERRIDE_FLAG}); this is audited.`);
    }
    for (const o of approverOverrides) {
      v.record({ event: 'daemon.approver-override', subject: v.vaultId, result: 'info', details: o });
      warn(`signing MAINNET transactions although ${o.reason} (${o.flag}); this is audited.`);
    }
    v.record({
      event: 'daemon.start',
      subject: v.vaultId,
      result: 'ok',
      details: {
        chains: selection.chains,
        reported: selection.reported,
        testnet,
        approval:
          approver === undefined
            ? 'none'
            : { method: approver.method, hmac: opts.externalUrlSecret !== undefined || process.env.HARDKMS_EXTERNAL_URL_SECRET !== undefined },
        policy: opts.policy ?? null,
        broadcast: opts.broadcast,
        runOnce: opts.runOnce === true,
        keyCache: opts.keyCache === true,
        chainIds: Object.fromEntries([...chainIds].map(([c, id]) => [c, id.toString()])),
      },
    });
    const journal = new Journal(v.store);
    const crashAfterSign = process.env[TEST_CRASH_ENV] === '1';
    const processor = new PendingProcessor({
      vault: v,
      journal,
      testnet,
      approver,
      policy,
      broadcaster,
      evm: new NodeEvmFiller(
        (c) => {
          const id = chainIds.get(c);
          if (id === undefined) throw new HardkmsError('UNSUPPORTED_CHAIN', `${c} is not an EVM chain this daemon signs`);
          return id;
        },
        evmNodes,
        tatumFillFor,
      ),
      vet: vetUrl === undefined ? undefined : new ThorRestNode(vetUrl),
      log,
      afterSignJournaled: crashAfterSign
        ? (id) => {
            log('error', `${TEST_CRASH_ENV}=1: killing the daemon after journaling the signature (test hook)`, { pendingId: id });
            process.kill(process.pid, 'SIGKILL');
          }
        : undefined,
    });
    daemon = new SignerDaemon(
      v,
      tatum,
      processor,
      {
        chains: selection.polled,
        testnet,
        periodMs: period,
        keyCache: opts.keyCache === true,
        wallets: opts.runOnce ? list(opts.wallets) : undefined,
        transactionIds: opts.runOnce ? list(opts.transactionIds) : undefined,
        observer: {
          polled: (chain, ok, received) => {
            metrics.polls.inc({ chain, result: ok ? 'ok' : 'error' });
            if (received > 0) metrics.pendingSeen.inc({ chain }, received);
          },
          processed: (chain, outcome, seconds) => {
            if (outcome.kind === 'broadcast') {
              metrics.broadcast.inc({ chain });
              if (!outcome.rebroadcast) {
                metrics.signed.inc({ chain });
                metrics.signLatency.observe({ chain }, seconds);
              }
            } else if (outcome.kind === 'failed') {
              if (outcome.signed) metrics.signed.inc({ chain });
              if (outcome.stage === 'broadcast') metrics.broadcastFailures.inc({ chain });
              metrics.failed.inc({ chain, reason: failureReason(outcome.error) });
            }
          },
          cycleDone: (result) => {
            health.lastPollAt = Date.now();
            health.lastPollOk = result.apiFailures === 0;
            metrics.lastPoll.set(health.lastPollAt / 1000);
            metrics.cycleSeconds.set(result.seconds);
            metrics.auditRecords.set(v.audit.lastRecord()?.seq ?? 0);
          },
        },
      },
      log,
    );
    if (signal !== undefined) daemon.stop();
    log('info', 'daemon started', { chains: selection.chains, testnet, period: period / 1000, runOnce: opts.runOnce === true });
    if (selection.reported.length > 0) {
      log('info', 'also polled, not signed: their pending transactions are reported to the API as errors', { chains: selection.reported });
    }
    const last = await daemon.run(opts.runOnce === true);
    if (opts.runOnce && signal === undefined && last !== undefined && (last.failed > 0 || last.apiFailures > 0)) {
      const what = [
        last.failed > 0 ? `${last.failed} pending transaction(s) failed` : '',
        last.apiFailures > 0 ? `${last.apiFailures} chain(s) could not be polled` : '',
      ]
        .filter((x) => x !== '')
        .join(' and ');
      throw new HardkmsError('DAEMON_RUN_FAILED', `--runOnce: ${what}.`, { hint: 'The log above and the error batch sent to the API name each failure.' });
    }
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    health.unsealed = false;
    metrics.unsealed.set(0);
    vault?.seal(signal !== undefined ? `daemon stopped by ${signal}` : 'daemon finished');
    server?.close();
    logger.flush();
    approver?.close();
    tatum.close();
    fillHttp.close();
    for (const n of nodes.values()) n.rpc.close();
  }
}
