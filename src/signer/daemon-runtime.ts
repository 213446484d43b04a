import type { Server } from 'node:http';
import { AnomalyWatch } from '../audit/watch.js';
import { HardkmsError } from '../errors.js';
import type { SealRecord, VaultSecretProvider } from '../vault/secret.js';
import { Vault } from '../vault/vault.js';
import { readVaultFacts } from '../vault/facts.js';
import { VERSION } from '../version.js';
import { AlertWebhook } from './observe/alert-webhook.js';
import { ExternalApprover } from './pipeline/approval.js';
import {
  NodeBroadcaster,
  nodeClientFor,
  TatumBroadcaster,
  type Broadcaster,
  type NodeClient,
} from './sinks/broadcast.js';
import { isEvmSignableChain, pinnedChainId, type ChainSelection } from './pipeline/chain-ids.js';
import { SignerDaemon } from './daemon.js';
import { NodeEvmFiller, tatumFillSource, type EvmFillSource } from './pipeline/evm-fill.js';
import { startHealthServer, type HealthState } from './observe/health-server.js';
import { HttpClient } from './http.js';
import { Journal } from './pipeline/journal.js';
import { DaemonMetrics, failureReason, NO_METRICS, type MetricsSink } from './observe/metrics.js';
import { nodeRpcUrlFromEnv, type EvmRpc } from './sinks/node-rpc.js';
import type { Policy } from './pipeline/policy.js';
import { PendingProcessor } from './pipeline/process-pending.js';
import type { DaemonLog } from './observe/logger.js';
import {
  checkTransport,
  gateWeaknesses,
  INSECURE_HTTP_FLAG,
  MAINNET_OVERRIDE_FLAG,
  mainnetReasons,
  UNAUTHENTICATED_APPROVER_FLAG,
} from './service.js';
import { TatumClient } from './source/tatum-client.js';
import { ThorRestNode, VET_PUBLIC_NODES } from './sinks/vet-node.js';
import { SolanaRpc } from './sinks/sol-rpc.js';
import { EgldGateway } from './sinks/egld-node.js';
import { RosettaClient } from './sinks/ada-rosetta.js';

/**
 * The daemon, composed: the mainnet rules (service.ts), the nodes and the transport rule,
 * the Tatum client, the approver, the broadcaster, /healthz and /metrics, the unseal (waiting
 * for the quorum), the gate re-check on the authenticated seal, the audit records of the run,
 * and the poll/sign/broadcast loop. In-process and testable; cli/daemon.ts only parses the
 * flags into DaemonRunOptions, supplies the prompts (DaemonRunDeps) and maps signals to stop().
 */

interface DaemonRunOptions {
  walletPath: string;
  auditLogPath: string | undefined;
  token: { modulePath: string | undefined; label: string | undefined; profile: string | undefined };
  apiUrl: string;
  apiKey: string;
  testnet: boolean;
  periodMs: number;
  selection: ChainSelection;
  broadcast: 'tatum' | 'node';
  externalUrl: string | undefined;
  externalUrlMethod: 'GET' | 'POST' | undefined;
  /** The approver's HMAC key; wiped once the approver holds it. */
  approvalSecret: Buffer | undefined;
  policy: Policy | undefined;
  policyFile: string | undefined;
  /** --i-understand-mainnet-without-approval */
  override: boolean;
  allowInsecureHttp: boolean;
  allowUnauthenticatedApprover: boolean;
  metricsAddr: string | undefined;
  runOnce: boolean;
  wallets: string[] | undefined;
  transactionIds: string[] | undefined;
  keyCache: boolean;
  /** --alert-webhook: each critical anomaly of the audit log is POSTed here as it happens. */
  alertWebhook: string | undefined;
  /** Test hook: SIGKILL right after a signature is journaled, before it is broadcast. */
  crashAfterSign: boolean;
  /** Test hook: SIGKILL right after Tatum accepted a broadcast, before the journal records it. */
  crashAfterAccept?: boolean | undefined;
  /** --claim-lease: how long this instance's claim on a pending id holds against the others (ms). */
  claimLeaseMs?: number | undefined;
}

interface DaemonRunDeps {
  /** The unseal provider for the vault's seal (the CLI's prompts and touch messages). */
  provider: (seal: SealRecord) => VaultSecretProvider;
  /** Checks before the unseal asks for any touch (the CLI's OTP requirement), on the seal as wallet.dat holds it. */
  beforeUnseal: (seal: SealRecord, actor: string) => Promise<void>;
  /** Checks after the unseal and before the PIN is dropped (the CLI's OTP check). */
  afterUnseal: (vault: Vault, actor: string) => Promise<void>;
  /** A damaged token's problems, for /healthz, or undefined. */
  tokenDamage: () => string | undefined;
  /** Operator-facing warnings (the CLI prints them on stderr). */
  warn: (message: string) => void;
  log: DaemonLog;
  flush?: () => void;
}

/** Gate failures that mean "not enough operators have touched yet": the daemon waits, sealed. */
const WAIT_FOR_QUORUM = new Set(['GATE_QUORUM_NOT_MET', 'GATE_NO_YUBIKEY', 'GATE_TIMEOUT']);

export class DaemonRuntime {
  private signal: string | undefined;
  private daemon: SignerDaemon | undefined;

  constructor(
    private readonly o: DaemonRunOptions,
    private readonly d: DaemonRunDeps,
  ) {}

  /** Finish the transaction in flight, then seal (a signal handler calls this). */
  stop(reason: string): void {
    this.signal = reason;
    this.d.log('info', `${reason} received: finishing the transaction in flight, then sealing`);
    this.daemon?.stop();
  }

  /** Resolves when the daemon stopped cleanly; throws (non-zero exit) for a --runOnce with failures. */
  async run(): Promise<void> {
    const { o, d } = this;
    const { testnet, override, selection, policy } = o;
    const secret = o.approvalSecret;
    const hmac = secret !== undefined;
    const log = d.log;
    const chainIds = new Map<string, bigint>();
    for (const c of selection.chains) if (isEvmSignableChain(c)) chainIds.set(c, pinnedChainId(c, testnet));

    const facts = readVaultFacts({ path: o.walletPath, auditLogPath: o.auditLogPath });
    const mainnet = mainnetReasons({
      testnet,
      testnetOnly: facts.testnetOnly,
      seal: facts.seal,
      externalUrl: o.externalUrl,
      override,
    });
    const approverOverrides: { flag: string; reason: string }[] = [];
    if (!testnet) {
      if (policy === undefined) {
        throw new HardkmsError(
          'DAEMON_MAINNET_REFUSED',
          'Refusing to sign mainnet transactions without a signing policy (--policy FILE).',
          {
            hint: 'Write a policy with a rule for each chain (or wallet) the daemon signs for; mainnet refuses what no rule covers. See "Signing policy" in docs/runbook.md.',
          },
        );
      }
      if (o.externalUrl !== undefined) {
        if (new URL(o.externalUrl).protocol !== 'https:') {
          if (!o.allowInsecureHttp) {
            throw new HardkmsError(
              'DAEMON_MAINNET_REFUSED',
              `The four-eyes approver ${o.externalUrl} is not https: on mainnet anyone on the path could answer for it.`,
              {
                hint: `Use an https:// URL, or pass ${INSECURE_HTTP_FLAG} for an approver on this host (audited).`,
              },
            );
          }
          approverOverrides.push({ flag: INSECURE_HTTP_FLAG, reason: 'the approver is reached over plain http' });
        }
        if (secret === undefined) {
          if (!o.allowUnauthenticatedApprover) {
            throw new HardkmsError(
              'DAEMON_MAINNET_REFUSED',
              'The four-eyes approver has no secret: on mainnet its answer must prove it saw this transaction.',
              {
                hint: `Give --externalUrlSecret FILE (see "Four-eyes approver protocol" in docs/runbook.md), or pass ${UNAUTHENTICATED_APPROVER_FLAG} (audited).`,
              },
            );
          }
          approverOverrides.push({
            flag: UNAUTHENTICATED_APPROVER_FLAG,
            reason: 'the approver proves nothing (no --externalUrlSecret)',
          });
        }
      }
    }

    // Each chain's HARDKMS_RPC_<CHAIN>, read once, here at start-up (the daemon never re-reads it).
    const nodeUrls = new Map<string, string | undefined>(selection.chains.map((c) => [c, nodeRpcUrlFromEnv(c)]));
    const nodes = new Map<string, NodeClient>();
    for (const c of selection.chains) {
      const url = nodeUrls.get(c);
      if (url !== undefined) {
        // TRON and VET nodes are not JSON-RPC: TRON's is unused, VET's is read by the VeChain client below.
        // SOL's is the Solana RPC below, whatever the broadcast mode.
        if ((c === 'TRON' || c === 'VET' || c === 'SOL' || c === 'EGLD' || c === 'ADA') && o.broadcast !== 'node')
          continue;
        nodes.set(c, nodeClientFor(c, url));
      } else if (o.broadcast === 'node') {
        throw new HardkmsError('DAEMON_CONFIG', `--broadcast node, but HARDKMS_RPC_${c} is not set.`, {
          hint: `Set HARDKMS_RPC_${c}, or leave ${c} out of --chain.`,
        });
      }
    }
    const endpoints = [{ what: 'Tatum API', url: o.apiUrl }];
    if (o.externalUrl !== undefined) endpoints.push({ what: 'approver', url: o.externalUrl });
    for (const c of selection.chains) {
      const url = nodes.has(c) ? nodeUrls.get(c) : undefined;
      if (url !== undefined) endpoints.push({ what: `HARDKMS_RPC_${c}`, url });
    }
    // SOL: Tatum's SOL RPC (as Tatum KMS), or the operator's node (HARDKMS_RPC_SOL): blockhash, token accounts, submission.
    const solUrl = nodeUrls.get('SOL');
    if (solUrl !== undefined && !nodes.has('SOL')) endpoints.push({ what: 'HARDKMS_RPC_SOL', url: solUrl });
    // EGLD: Tatum's EGLD node (as Tatum KMS), or the operator's gateway (HARDKMS_RPC_EGLD).
    const egldUrl = nodeUrls.get('EGLD');
    if (egldUrl !== undefined) endpoints.push({ what: 'HARDKMS_RPC_EGLD', url: egldUrl });
    // ADA: Tatum's Cardano Rosetta (as Tatum KMS), or the operator's Rosetta server (HARDKMS_RPC_ADA).
    const adaUrl = nodeUrls.get('ADA');
    if (adaUrl !== undefined) endpoints.push({ what: 'HARDKMS_RPC_ADA', url: adaUrl });
    const vetUrl = selection.chains.includes('VET')
      ? (nodeUrls.get('VET') ?? (testnet ? VET_PUBLIC_NODES.testnet : VET_PUBLIC_NODES.mainnet))
      : undefined;
    if (vetUrl !== undefined && nodeUrls.get('VET') !== undefined)
      endpoints.push({ what: 'HARDKMS_RPC_VET', url: vetUrl });
    // Its origin only: a webhook URL often carries a token in its path (errors and audit records show this).
    if (o.alertWebhook !== undefined)
      endpoints.push({ what: 'alert webhook', url: `${new URL(o.alertWebhook).origin}/` });
    const insecure = checkTransport(testnet, o.allowInsecureHttp, endpoints);
    const insecureRun = !testnet && insecure.length > 0;
    // Named in every audit record of this run: the actor says the run allowed plain http.
    const actor = insecureRun ? `daemon[${INSECURE_HTTP_FLAG.slice(2)}]` : 'daemon';
    const evmNodes = new Map<string, EvmRpc>();
    for (const [c, n] of nodes) if (n.kind === 'evm') evmNodes.set(c, n.rpc);

    const tatum = new TatumClient({ baseUrl: o.apiUrl, apiKey: o.apiKey, clientVersion: VERSION });
    // Without an own node, EVM gaps are filled through the Tatum API as Tatum KMS does (§2.10).
    const tatumFill = new Map<string, EvmFillSource | undefined>();
    const apiKey = o.apiKey;
    const fillHttp = new HttpClient({ timeoutMs: 30_000 });
    const tatumFillFor = (c: string): EvmFillSource | undefined => {
      if (!tatumFill.has(c)) tatumFill.set(c, tatumFillSource(c, { baseUrl: tatum.baseUrl, apiKey, http: fillHttp }));
      return tatumFill.get(c);
    };
    const approver =
      o.externalUrl === undefined
        ? undefined
        : new ExternalApprover({
            externalUrl: o.externalUrl,
            ...(o.externalUrlMethod ? { method: o.externalUrlMethod } : {}),
            ...(secret ? { secret } : {}),
          });
    secret?.fill(0);
    const solNode = nodes.get('SOL');
    const sol = !selection.chains.includes('SOL')
      ? undefined
      : solNode?.kind === 'sol'
        ? solNode.rpc
        : solUrl !== undefined
          ? new SolanaRpc({ url: solUrl })
          : SolanaRpc.tatum(o.apiUrl, o.apiKey);
    const egld = !selection.chains.includes('EGLD')
      ? undefined
      : egldUrl !== undefined
        ? new EgldGateway(egldUrl)
        : EgldGateway.tatum(o.apiUrl, o.apiKey);
    const ada = !selection.chains.includes('ADA')
      ? undefined
      : adaUrl !== undefined
        ? new RosettaClient(adaUrl)
        : RosettaClient.tatum(o.apiUrl, o.apiKey, testnet);
    const broadcaster: Broadcaster =
      o.broadcast === 'node' ? new NodeBroadcaster(nodes, tatum) : new TatumBroadcaster(tatum, sol);

    let vault: Vault | undefined;
    // Prometheus metrics only when served (prom-client is a tenth of a --runOnce's start-up).
    const served = o.metricsAddr === undefined ? undefined : await DaemonMetrics.create();
    const metrics: MetricsSink = served ?? NO_METRICS;
    metrics.periodSeconds.set(o.periodMs / 1000);
    const health: HealthState = {
      unsealed: false,
      tokenReachable: () => vault !== undefined && !vault.isSealed && vault.token.random(1).length === 1,
      tokenDamage: d.tokenDamage,
      lastPollAt: undefined,
      lastPollOk: undefined,
      maxPollAgeMs: Math.max(3 * o.periodMs, 60_000),
    };
    // Watching from before the unseal: a burst of failed unseals is an anomaly too.
    const alerts =
      o.alertWebhook === undefined ? undefined : new AlertWebhook({ url: o.alertWebhook, vaultId: facts.vaultId, log });
    let watchTimer: NodeJS.Timeout | undefined;
    let watch: AnomalyWatch | undefined;
    const pollWatch = (): void => {
      try {
        for (const a of watch?.poll() ?? []) if (a.severity === 'critical') alerts?.send(a);
      } catch (e) {
        log('warn', 'anomaly watch: the audit log could not be read', {
          error: e instanceof Error ? e.message : String(e),
        });
      }
    };
    if (alerts !== undefined) {
      watch = new AnomalyWatch(facts.auditLogPath, facts.binding.auditKeyFingerprint);
      watch.start();
      pollWatch();
      watchTimer = setInterval(pollWatch, 1_000);
      watchTimer.unref();
      log('info', 'alert webhook: critical anomalies of the audit log are posted as they happen', {
        webhook: alerts.origin,
      });
    }
    let server: Server | undefined;
    if (o.metricsAddr !== undefined && served !== undefined) {
      server = await startHealthServer(o.metricsAddr, () => health, served);
      log('info', 'health and metrics served', { address: o.metricsAddr });
    }

    let sealError: unknown;
    try {
      // Before any operator touches a key: the OTP the unseal will need, and the Tatum API.
      await d.beforeUnseal(facts.seal, actor);
      await tatum.probe();
      // Starts sealed; a long-running daemon waits for the quorum (operators touching their
      // YubiKeys) instead of exiting, so /healthz says "sealed" meanwhile.
      for (;;) {
        try {
          vault = await Vault.open({
            path: o.walletPath,
            auditLogPath: o.auditLogPath,
            provider: d.provider(facts.seal),
            token: o.token,
            actor,
          });
          break;
        } catch (e) {
          metrics.unsealFailures.inc({ code: e instanceof HardkmsError ? e.code : 'INTERNAL' });
          if (o.runOnce || this.signal !== undefined || !(e instanceof HardkmsError) || !WAIT_FOR_QUORUM.has(e.code))
            throw e;
          log('warn', 'still sealed: waiting for the YubiKey quorum', {
            code: e.code,
            retryInSeconds: o.periodMs / 1000,
          });
          await new Promise((r) => setTimeout(r, o.periodMs));
          if (this.signal !== undefined) return;
        }
      }
      if (this.signal !== undefined) return;
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
      await d.afterUnseal(v, actor);
      // The daemon needs the logged-in session, not the PIN: zero it once the unseal checks
      // (which may re-seal with the full secret) are done.
      v.forgetTokenPin();
      if (insecureRun) {
        v.record({
          event: 'daemon.insecure-http',
          subject: v.vaultId,
          result: 'info',
          details: { flag: INSECURE_HTTP_FLAG, endpoints: insecure },
        });
        d.warn(
          `plain http on MAINNET for ${insecure.map((e) => e.what).join(', ')} (${INSECURE_HTTP_FLAG}); this is audited.`,
        );
      }
      health.unsealed = true;
      metrics.unsealed.set(1);
      if (mainnet.length > 0) {
        v.record({
          event: 'daemon.mainnet-override',
          subject: v.vaultId,
          result: 'info',
          details: { flag: MAINNET_OVERRIDE_FLAG, reasons: mainnet },
        });
        d.warn(
          `signing MAINNET transactions with ${mainnet.join(' and ')} (${MAINNET_OVERRIDE_FLAG}); this is audited.`,
        );
      }
      for (const ov of approverOverrides) {
        v.record({ event: 'daemon.approver-override', subject: v.vaultId, result: 'info', details: ov });
        d.warn(`signing MAINNET transactions although ${ov.reason} (${ov.flag}); this is audited.`);
      }
      v.record({
        event: 'daemon.start',
        subject: v.vaultId,
        result: 'ok',
        details: {
          chains: selection.chains,
          reported: selection.reported,
          testnet,
          approval: approver === undefined ? 'none' : { method: approver.method, hmac: hmac },
          policy: o.policyFile ?? null,
          broadcast: o.broadcast,
          runOnce: o.runOnce,
          keyCache: o.keyCache,
          ...(alerts ? { alertWebhook: alerts.origin } : {}),
          chainIds: Object.fromEntries([...chainIds].map(([c, id]) => [c, id.toString()])),
        },
      });
      const journal = new Journal(v.store, undefined, {
        leaseMs: o.claimLeaseMs,
        onClaim: (event) => {
          if (event === 'taken') metrics.claimsTaken.inc();
          else if (event === 'expired') metrics.claimsExpired.inc();
          else metrics.claimsLost.inc();
          metrics.claimsHeld.set(journal.claimsHeld);
        },
      });
      health.claimsHeld = () => journal.claimsHeld;
      health.database = () => v.store.connection();
      const storeState = (): void => {
        metrics.storeConnected.set(v.store.connection().connected ? 1 : 0);
        metrics.claimsHeld.set(journal.claimsHeld);
      };
      storeState();
      const crashAfterSign = o.crashAfterSign;
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
            if (id === undefined)
              throw new HardkmsError('UNSUPPORTED_CHAIN', `${c} is not an EVM chain this daemon signs`);
            return id;
          },
          evmNodes,
          tatumFillFor,
        ),
        vet: vetUrl === undefined ? undefined : new ThorRestNode(vetUrl),
        sol,
        egld,
        ada,
        log,
        afterSignJournaled: crashAfterSign
          ? (id) => {
              log(
                'error',
                `crash-after-sign test hook: killing the daemon after journaling the signature (test hook)`,
                { pendingId: id },
              );
              process.kill(process.pid, 'SIGKILL');
            }
          : undefined,
        afterBroadcastAccepted:
          o.crashAfterAccept === true
            ? (id) => {
                log('error', 'crash-after-accept test hook: killing the daemon before the broadcast is journaled', {
                  pendingId: id,
                });
                process.kill(process.pid, 'SIGKILL');
              }
            : undefined,
      });
      const daemon = new SignerDaemon(
        v,
        tatum,
        processor,
        {
          chains: selection.polled,
          testnet,
          periodMs: o.periodMs,
          keyCache: o.keyCache,
          wallets: o.runOnce ? o.wallets : undefined,
          transactionIds: o.runOnce ? o.transactionIds : undefined,
          observer: {
            polled: (chain, ok, received) => {
              metrics.polls.inc({ chain, result: ok ? 'ok' : 'error' });
              if (received > 0) metrics.pendingSeen.inc({ chain }, received);
            },
            storeDown: () => {
              metrics.storeOutages.inc();
              storeState();
            },
            processed: (chain, outcome, seconds) => {
              storeState();
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
              // PostgreSQL: this host's audit.log gets the cycle's records (every instance's) from the store's trail.
              v.syncAuditCopy();
              storeState();
              health.lastPollAt = Date.now();
              health.lastPollOk = result.apiFailures === 0;
              metrics.lastPoll.set(health.lastPollAt / 1000);
              metrics.cycleSeconds.set(result.seconds);
              // Read without the store's writer lock (taking it every cycle would serialize the
              // instances): another instance sharing the log may be mid-append, and the half-written
              // last line it reads then is no reason to stop signing. The gauge keeps its last value.
              if (served !== undefined) {
                try {
                  metrics.auditRecords.set(v.audit.lastRecord()?.seq ?? 0);
                } catch {
                  // read again after the next cycle
                }
              }
            },
          },
        },
        log,
      );
      this.daemon = daemon;
      if (this.signal !== undefined) daemon.stop();
      log('info', 'daemon started', {
        chains: selection.chains,
        testnet,
        period: o.periodMs / 1000,
        runOnce: o.runOnce,
      });
      if (selection.reported.length > 0) {
        log('info', 'also polled, not signed: their pending transactions are reported to the API as errors', {
          chains: selection.reported,
        });
      }
      const last = await daemon.run(o.runOnce);
      if (o.runOnce && this.signal === undefined && last !== undefined && (last.failed > 0 || last.apiFailures > 0)) {
        const what = [
          last.failed > 0 ? `${last.failed} pending transaction(s) failed` : '',
          last.apiFailures > 0 ? `${last.apiFailures} chain(s) could not be polled` : '',
        ]
          .filter((x) => x !== '')
          .join(' and ');
        throw new HardkmsError('DAEMON_RUN_FAILED', `--runOnce: ${what}.`, {
          hint: 'The log above and the error batch sent to the API name each failure.',
        });
      }
    } finally {
      health.unsealed = false;
      metrics.unsealed.set(0);
      // A seal record that cannot be written (a damaged log) still ends the process: the
      // servers and clients below are closed whatever happens (left open, it ran on, sealed).
      try {
        vault?.seal(this.signal !== undefined ? `daemon stopped by ${this.signal}` : 'daemon finished');
      } catch (e) {
        sealError = e;
      }
      if (watchTimer !== undefined) clearInterval(watchTimer);
      pollWatch();
      await alerts?.close();
      server?.close();
      d.flush?.();
      approver?.close();
      tatum.close();
      fillHttp.close();
      for (const n of nodes.values()) n.rpc.close();
      if (sol !== undefined && solNode === undefined) sol.close();
      egld?.close();
      ada?.close();
      // Logged here; thrown below when no other error is already on its way out (that one stays the answer).
      if (sealError !== undefined)
        log('error', 'the seal record could not be written', {
          error: sealError instanceof Error ? sealError.message : String(sealError),
        });
    }
    if (sealError !== undefined) throw sealError;
  }
}
