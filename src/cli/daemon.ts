import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { HardkmsError, InputError } from '../errors.js';
import { selectChains } from '../signer/pipeline/chain-ids.js';
import { chainSupportLines } from '../signer/source/chain-support.js';
import { DaemonRuntime } from '../signer/daemon-runtime.js';
import { createLogger, isLogLevel, type DaemonLog, type LogLevel } from '../signer/observe/logger.js';
import { loadPolicy, type Policy } from '../signer/pipeline/policy.js';
import { INSECURE_HTTP_FLAG, MAINNET_OVERRIDE_FLAG, UNAUTHENTICATED_APPROVER_FLAG } from '../signer/service.js';
import { configFrom, providerFor, runBeforeUnsealChecks, runUnsealChecks } from './context.js';
import { globalFlags } from './flags.js';
import { warn } from './output.js';
import { tokenBackupFor } from './token.js';
import { readEnv, takeEnvSecret, type PublicEnvName } from '../config/env.js';
import { isHttpUrl } from '../http-url.js';

/**
 * `hardkms daemon`: Tatum KMS's daemon flags, plus:
 *   --policy FILE                          signing policy (src/signer/pipeline/policy.ts)
 *   --broadcast tatum|node                 where signed transactions go (default tatum)
 *   --externalUrlSecret FILE               HMAC key the approver proves itself with; the key
 *                                          is read from FILE (or env HARDKMS_EXTERNAL_URL_SECRET),
 *                                          never from the command line, which other users can see
 *   --i-understand-mainnet-without-approval  run mainnet without --externalUrl or with a
 *                                          password-sealed vault (audited)
 *   --allow-insecure-http                  mainnet: accept an http:// approver URL (audited)
 *   --allow-unauthenticated-approver       mainnet: accept an approver without --externalUrlSecret (audited)
 *   --alert-webhook URL                    POST each critical audit-log anomaly as JSON (signer/observe/alert-webhook.ts)
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
  claimLease?: string;
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
  alertWebhook?: string;
  logLevel?: string;
};

/** Test hook: SIGKILL the daemon right after a signature is journaled, before it is broadcast. */
const TEST_CRASH_ENV = 'HARDKMS_TEST_CRASH_AFTER_SIGN' satisfies PublicEnvName;

function makeLog(levelFlag: string | undefined): { log: DaemonLog; logger: Logger } {
  const level = levelFlag ?? readEnv('HARDKMS_LOG_LEVEL') ?? 'info';
  if (!isLogLevel(level))
    throw new InputError(`Log level '${level}' is not one of fatal, error, warn, info, debug, trace.`);
  const logger = createLogger(level);
  const log: DaemonLog = (lvl: LogLevel, message, fields) => logger[lvl](fields ?? {}, message);
  return { log, logger };
}

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

/** --claim-lease: 1 s to a day. Shorter than a signing takes only wastes work: the signature of a claim taken over is refused when it is recorded. */
function claimLeaseMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n >= 1) || n > 86_400) {
    throw new InputError(
      `--claim-lease '${text}' is not a number of seconds between 1 and 86400.`,
      "E.g. --claim-lease 120 (the default): how long a pending id claimed by a signer that died stays out of the others' reach.",
    );
  }
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
      throw new InputError(
        `The approver key in ${file} is shorter than 16 bytes.`,
        'Use at least 32 random bytes (e.g. openssl rand -hex 32 > FILE).',
      );
    return key;
  }
  // Removed from the environment once read (issue 9 item 8): the approver key is a secret.
  const env = takeEnvSecret('HARDKMS_EXTERNAL_URL_SECRET');
  if (env !== undefined) {
    if (env.length < 16) {
      env.fill(0);
      throw new InputError(
        'HARDKMS_EXTERNAL_URL_SECRET is shorter than 16 characters.',
        'Use at least 32 random bytes, hex-encoded.',
      );
    }
    return env;
  }
  return undefined;
}

export function registerDaemon(program: Command): void {
  globalFlags(
    program
      .command('daemon')
      .description(
        'Poll the Tatum API for pending transactions of this vault, check, sign in the token and broadcast them',
      )
      .option('--testnet', 'testnet wallets and chain ids')
      .option('--period <seconds>', 'seconds between polls', '5')
      .option(
        '--chain <codes>',
        'comma-separated chains to poll (default: Tatum’s list); chains hardkms does not sign are polled and reported',
      )
      .option(
        '--externalUrl <url>',
        'four-eyes approver: GET/POST {url}/{pendingId}, 2xx approves (required on mainnet)',
      )
      .option('--externalUrlMethod <method>', 'GET or POST (POST sends the pending transaction)', 'GET')
      .option(
        '--externalUrlSecret <file>',
        'file holding the HMAC key the approver must prove (header x-hardkms-approval)',
      )
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
      .option(
        UNAUTHENTICATED_APPROVER_FLAG,
        'mainnet: accept an approver that proves nothing (no --externalUrlSecret; audited)',
      )
      .option('--metrics-addr <host:port>', 'serve /healthz and /metrics (Prometheus) here, e.g. 127.0.0.1:9464')
      .option(
        '--claim-lease <seconds>',
        'several signers on one store: how long a claim on a pending id holds against the others (default 120)',
      )
      .option(
        '--alert-webhook <url>',
        "POST each critical anomaly of the audit log (the audit report's list) as JSON to this URL as it happens; https on mainnet",
      )
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
  if (opts.broadcast !== 'tatum' && opts.broadcast !== 'node')
    throw new InputError(`--broadcast '${opts.broadcast}' is neither tatum nor node.`);
  if (opts.externalUrlMethod !== undefined) {
    // As Tatum KMS: POST (here in any case) sends the transaction, anything else is GET.
    const method = opts.externalUrlMethod.trim().toUpperCase();
    if (method !== 'GET' && method !== 'POST')
      warn(
        `--externalUrlMethod '${opts.externalUrlMethod.slice(0, 20)}' is neither GET nor POST; using GET, as Tatum KMS does.`,
      );
    opts.externalUrlMethod = method === 'POST' ? 'POST' : 'GET';
  }
  if (opts.externalUrl !== undefined && !isHttpUrl(opts.externalUrl))
    throw new InputError(`--externalUrl '${opts.externalUrl}' is not an http(s) URL.`);
  if (opts.alertWebhook !== undefined && !isHttpUrl(opts.alertWebhook))
    throw new InputError(
      `--alert-webhook is not an http(s) URL.`,
      'E.g. --alert-webhook https://alerts.internal/hardkms (https on mainnet).',
    );
  if (!opts.runOnce && (opts.wallets !== undefined || opts.transactionIds !== undefined))
    warn('--wallets and --transactionIds apply only with --runOnce; ignored.');
  if (config.apiKey === undefined)
    throw new HardkmsError('DAEMON_CONFIG', 'No Tatum API key.', {
      hint: 'Set TATUM_API_KEY (or --apiKey, which other users can see in the process list).',
    });
  const policy: Policy | undefined = opts.policy === undefined ? undefined : loadPolicy(opts.policy);
  const secret = approvalSecret(opts.externalUrlSecret);
  if (secret !== undefined && opts.externalUrl === undefined)
    throw new InputError('--externalUrlSecret needs --externalUrl.');
  const runtime = new DaemonRuntime(
    {
      walletPath: config.walletPath,
      auditLogPath: config.auditLogPath,
      token: config.token,
      apiUrl: config.apiUrl,
      apiKey: config.apiKey,
      testnet,
      periodMs: period,
      claimLeaseMs: claimLeaseMs(opts.claimLease),
      selection,
      broadcast: opts.broadcast,
      externalUrl: opts.externalUrl,
      externalUrlMethod:
        opts.externalUrlMethod === undefined ? undefined : opts.externalUrlMethod === 'POST' ? 'POST' : 'GET',
      approvalSecret: secret,
      policy,
      policyFile: opts.policy,
      override,
      allowInsecureHttp: opts.allowInsecureHttp === true,
      allowUnauthenticatedApprover: opts.allowUnauthenticatedApprover === true,
      metricsAddr: opts.metricsAddr,
      runOnce: opts.runOnce === true,
      wallets: list(opts.wallets),
      transactionIds: list(opts.transactionIds),
      keyCache: opts.keyCache === true,
      alertWebhook: opts.alertWebhook,
      crashAfterSign: readEnv(TEST_CRASH_ENV) === '1',
      crashAfterAccept: readEnv(TEST_CRASH_ENV) === 'broadcast',
    },
    {
      provider: (seal) => providerFor(seal, config),
      beforeUnseal: runBeforeUnsealChecks,
      afterUnseal: runUnsealChecks,
      tokenDamage: () => {
        const c = tokenBackupFor(config)?.check();
        return c?.state === 'damaged'
          ? `${c.problems.map((p) => `${p.file}: ${p.problem}`).join('; ')} (run \`hardkms token repair\`)`
          : undefined;
      },
      warn,
      log,
      flush: () => logger.flush(),
    },
  );
  const onTerm = (): void => runtime.stop('SIGTERM');
  const onInt = (): void => runtime.stop('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    await runtime.run();
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}
