/**
 * One pending transaction, from the API's answer to the chain: journal → approval →
 * key resolution → decode → policy → sign → journal → audit → broadcast → journal.
 *
 * Invariant 6: a transaction is signed only when its wallets are known, the approver said
 * yes (where configured), the policy passed, and the journal shows no earlier signature.
 * The journal row and the 'sign' audit record are on disk before the signed transaction
 * leaves the process. Nothing here throws: every outcome is a value, and a failure carries
 * the text reported in the cycle's error batch (§2.6).
 */
import { HardkmsError, isHardkmsError } from '../../errors.js';
import type { DecodedTx } from '../../chains/decoded.js';
import type { EvmFill } from '../../chains/evm/payload.js';
import { utxoNetwork } from '../../chains/networks.js';
import { chainFamily } from '../../chains/registry.js';
import type { XrpKey } from '../../chains/xrp/sign.js';
import type { VetNode } from '../sinks/vet-node.js';
import { ed25519SignerFor, ed25519SignerForRef, mnemonicEd25519PublicKey } from './ed25519-signing-keys.js';
import type { SolTokenAccount } from '../../chains/sol/sign.js';
import type { Ed25519Signer } from '../../chains/ed25519/signer.js';
import type { SolanaRpc } from '../sinks/sol-rpc.js';
import type { EgldNode } from '../sinks/egld-node.js';
import type { EgldFill } from '../../chains/egld/sign.js';
import type { AdaRosetta } from '../../chains/ada/sign.js';
import type { ChainFamily } from '../../chains/types.js';
import type { UtxoChainCode } from '../../chains/utxo/sign.js';
import type { Vault } from '../../vault/vault.js';
import { approvalPayload, ApprovalUnsendable, type ApprovalPayload, type ExternalApprover } from './approval.js';
import type { Broadcaster } from '../sinks/broadcast.js';
import { isNeverMinable, neverMinableError, neverMinableReason } from '../sinks/never-minable.js';
import type { EvmFiller } from './evm-fill.js';
import { isHttpError } from '../http.js';
import { payloadHash, type ClaimResult, type Journal, type SpendRecord } from './journal.js';
import { ownScripts, resolveKeys, type KeyRef } from './key-resolution.js';
import type { PendingTransaction } from '../source/pending.js';
import type { AuditEvent } from '../../audit/record.js';
import { evaluatePolicy, movementsOf, type Policy } from './policy.js';
import { withdrawalAmounts, type WithdrawalAmounts } from '../../audit/withdrawals.js';
import { reportText } from '../observe/error-report.js';
import { derivedPublicKey, signingKeyFor, type SigningKey, type SigningKeyDeps } from './signing-keys.js';
import { StepCommitter } from './step-commit.js';
import type { DaemonLog } from '../observe/logger.js';

export type Outcome =
  | { kind: 'broadcast'; txId: string; rebroadcast: boolean }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; error: string; signed: boolean; stage?: 'broadcast' };

interface ProcessorDeps {
  vault: Vault;
  journal: Journal;
  testnet: boolean;
  approver?: ExternalApprover | undefined;
  policy?: Policy | undefined;
  broadcaster: Broadcaster;
  evm: EvmFiller;
  /** VeChain node for blockRef and the gas estimate (VET only). */
  vet?: VetNode | undefined;
  /** Solana RPC for the blockhash and SPL token accounts (SOL only; the broadcaster submits). */
  sol?: SolanaRpc | undefined;
  /** MultiversX gateway for the network config, nonce and gas cost (EGLD only). */
  egld?: EgldNode | undefined;
  /** Cardano Rosetta for the construction flow (ADA only). */
  ada?: AdaRosetta | undefined;
  log: DaemonLog;
  signerDeps?: SigningKeyDeps;
  /** Test hook: runs after the signature is journaled and audited, before the broadcast. */
  afterSignJournaled?: ((pendingId: string) => void) | undefined;
  /** Test hook: runs once the broadcast was accepted, before the journal records it. */
  afterBroadcastAccepted?: ((pendingId: string) => void) | undefined;
  now?: () => Date;
  /** Commits the steps of concurrent pending transactions together (one per processor by default). */
  steps?: StepCommitter | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A transaction made ready for the policy: what it does, and the signing step that runs only
 * once the policy passed. Families whose keys live on the host add wipe(), which the caller
 * runs whatever happens.
 */
interface Plan {
  decoded: DecodedTx;
  sign: () => Promise<string>;
  wipe?: () => void;
}

/** The node a family needs before the policy sees its transaction; DAEMON_CONFIG naming the variable to set when there is none. */
function requiredNode<N>(
  node: N | undefined,
  chain: string,
  what: string,
  hint = `Set HARDKMS_RPC_${chain} or TATUM_API_URL.`,
): N {
  if (node === undefined)
    throw new HardkmsError('DAEMON_CONFIG', `${chain} needs ${what} and none is configured`, { hint });
  return node;
}

/**
 * SOL, EGLD and ADA sign with host keys (mnemonic children that exist only until wiped): one
 * shape. build() runs with the keys; if it throws, the keys (and whatever build handed to
 * alsoWipe) are wiped here, otherwise by the plan's wipe().
 */
async function withHostKeys(
  keys: readonly { wipe(): void }[],
  build: (alsoWipe: (wipe: () => void) => void) => Promise<Omit<Plan, 'wipe'>>,
): Promise<Plan> {
  const wipes = keys.map((k) => () => k.wipe());
  const wipe = (): void => {
    for (const w of wipes) w();
  };
  try {
    return { ...(await build((w) => wipes.push(w))), wipe };
  } catch (e) {
    wipe();
    throw e;
  }
}

export class PendingProcessor {
  /** Ids whose approval denial is already audited (one record per id and daemon run, not one per poll). */
  private readonly deniedAudited = new Set<string>();
  /** Journal rows and audit records of a step, durable together (group commit across concurrent pendings). */
  readonly steps: StepCommitter;
  /**
   * What transactions that passed the policy but are not journaled as signed yet will move,
   * by `chain|testnet|scope|asset`: pending transactions are processed concurrently, and the
   * rolling limits must count those too (over-counting for a moment is safe; missing one is not).
   */
  private readonly reserved = new Map<string, bigint>();

  constructor(private readonly d: ProcessorDeps) {
    this.steps = d.steps ?? new StepCommitter(d.vault);
  }

  /**
   * Imports the signing modules of the Bitcoin family, EVM and TRON chains among `chains`
   * before a cycle's pending transactions start (plan() imports them too; none are loaded when
   * nothing is pending). Loaded in the middle of a cycle instead, the first transaction of a
   * family held the others' steps apart and the group commit wrote more batches (a cycle of
   * 36: about 130 fsyncs instead of 90).
   */
  async prepare(chains: Iterable<string>): Promise<void> {
    const families = new Set<ChainFamily>();
    for (const chain of chains) {
      try {
        families.add(chainFamily(chain));
      } catch {
        // not a chain hardkms signs: process() reports it
      }
    }
    const loads: Promise<unknown>[] = [];
    if (families.has('utxo')) loads.push(import('../../chains/utxo/sign.js'));
    if (families.has('evm')) loads.push(import('../../chains/evm/sign.js'), import('../../chains/evm/address.js'));
    if (families.has('tron')) loads.push(import('../../chains/tron/sign.js'));
    await Promise.all(loads);
  }

  async process(pending: PendingTransaction, raw: unknown): Promise<Outcome> {
    try {
      return await this.run(pending, raw);
    } catch (e) {
      // Re-keyed by another process (a rotate while the daemon runs): this process's key writes
      // nothing more, not even this failure's record; the daemon stops (daemon.ts).
      if (e instanceof HardkmsError && e.code === 'VAULT_REKEYED') throw e;
      // Only a bug or the store/token failing gets here; still an outcome, never a crash.
      const error = reportText(e);
      this.d.log('error', 'unexpected failure processing a pending transaction', { pendingId: pending.id, error });
      this.safeAudit({
        event: 'sign',
        subject: pending.id,
        result: 'fail',
        details: { pendingId: pending.id, chain: pending.chain, error },
      });
      return { kind: 'failed', error, signed: false };
    }
  }

  private async run(pending: PendingTransaction, raw: unknown): Promise<Outcome> {
    const { journal, vault } = this.d;
    const id = pending.id;
    const hash = payloadHash(pending);
    const before = journal.get(id);

    if (before?.rawTx !== undefined) {
      if (before.payloadHash !== hash) {
        const error = `pending ${id} was already signed (raw tx sha256 ${before.rawTxHash}) for a different payload; hardkms never signs one pending id twice`;
        if (before.error !== error) {
          await this.failStep(id, error, [
            {
              event: 'sign',
              subject: id,
              result: 'denied',
              details: {
                pendingId: id,
                chain: pending.chain,
                reason: 'payload changed after signing',
                rawTxHash: before.rawTxHash,
              },
            },
          ]);
        }
        return { kind: 'failed', error: `TX_ALREADY_SIGNED: ${error}`, signed: true };
      }
      if (before.state === 'failed' && isNeverMinable(before.error)) {
        // Re-sending cannot help and re-signing needs the operator: report it, every cycle.
        return { kind: 'failed', error: before.error!, signed: true };
      }
      if (before.state === 'broadcast' && before.chainTxId !== undefined) {
        // Already broadcast; the API may not have caught up. Node mode still has to tell Tatum.
        if (this.d.broadcaster.settle !== undefined) {
          try {
            await this.d.broadcaster.settle(pending, before.chainTxId);
          } catch (e) {
            this.d.log('warn', 'could not mark a broadcast transaction complete at Tatum', {
              pendingId: id,
              error: reportText(e),
            });
          }
        }
        return { kind: 'skipped', reason: 'already broadcast' };
      }
      try {
        // Loaded on first use: it decodes every family's signed form (their libraries are large).
        const { checkSignedMatchesPayload } = await import('./rebroadcast-check.js');
        checkSignedMatchesPayload(pending, before.rawTx, () => this.d.evm.chainId(pending.chain));
      } catch (e) {
        const error = reportText(e);
        if (before.error !== error) {
          await this.failStep(id, error, [
            {
              event: 'broadcast',
              subject: id,
              result: 'denied',
              details: { pendingId: id, chain: pending.chain, error, rawTxHash: before.rawTxHash },
            },
          ]);
        }
        return { kind: 'failed', error, signed: true };
      }
      // Several signers see the id pending until Tatum completes it: one re-broadcasts.
      let turn = await this.steps.commit(() => journal.claimBroadcast(id));
      if (typeof turn === 'number') {
        // The signer that held it died moments ago: its broadcast may still be in Tatum's hands,
        // and Tatum's answer below would not show it yet. Waited out once, then asked again.
        await new Promise((r) => setTimeout(r, turn as number));
        turn = await this.steps.commit(() => journal.claimBroadcast(id));
      }
      if (turn === 'taken' || typeof turn === 'number')
        return { kind: 'skipped', reason: 'another signer is broadcasting this pending transaction' };
      if (turn === 'broadcast') return { kind: 'skipped', reason: 'already broadcast' };
      const done = await this.completedAtTatum(pending, before.rawTx);
      if (done !== undefined) return done;
      this.d.log('info', 're-broadcasting the transaction signed earlier (same raw tx)', {
        pendingId: id,
        rawTxHash: before.rawTxHash,
      });
      return this.broadcast(pending, before.rawTx, true);
    }

    // Without an approval call between them, receive and claim are one step (one commit).
    let claimedWithReceive: ClaimResult | undefined;
    if (this.d.approver === undefined) {
      claimedWithReceive = await this.steps.commit(() => journal.receiveAndClaim(id, pending.chain, hash));
    } else {
      const row = await this.steps.commit(() => journal.receive(id, pending.chain, hash));
      if (row.rawTx !== undefined) return { kind: 'skipped', reason: 'signed concurrently' };
    }

    const approvalRequired = this.d.approver !== undefined;
    let approvalStatus: unknown;
    if (this.d.approver !== undefined) {
      let shown: ApprovalPayload;
      try {
        shown = approvalPayload(raw ?? { id });
      } catch (e) {
        // Skipping it would ask again every cycle and never tell anyone: report it instead.
        if (!(e instanceof ApprovalUnsendable)) throw e;
        const error = `${e.code}: ${e.message}`;
        await this.failStep(
          id,
          error,
          before?.error !== error
            ? [
                {
                  event: 'approval',
                  subject: id,
                  result: 'fail',
                  details: { pendingId: id, chain: pending.chain, error },
                },
              ]
            : [],
        );
        return { kind: 'failed', error, signed: false };
      }
      const decision = await this.d.approver.approve(id, raw, shown);
      approvalStatus = decision.status;
      if (!decision.approved) {
        this.d.log('info', 'not approved by the external approver; skipped, asked again next cycle', {
          pendingId: id,
          reason: decision.reason,
        });
        if (!this.deniedAudited.has(id)) {
          this.deniedAudited.add(id);
          await this.steps.record({
            event: 'approval',
            subject: id,
            result: 'denied',
            details: { pendingId: id, chain: pending.chain, reason: decision.reason },
          });
        }
        return { kind: 'skipped', reason: decision.reason };
      }
      this.deniedAudited.delete(id);
    }
    const approved: AuditEvent[] = [];
    if (approvalRequired)
      approved.push({
        event: 'approval',
        subject: id,
        result: 'ok',
        details: { pendingId: id, chain: pending.chain, status: approvalStatus },
      });
    // Claimed before any key is unwrapped: of two daemons on one wallet.dat, one signs.
    const claim =
      claimedWithReceive ??
      (await this.steps.commit(
        () => journal.claim(id, { approve: true }),
        () => approved,
      ));
    if (claim !== 'claimed') {
      const reason =
        claim === 'taken' ? 'another signer is processing this pending transaction' : 'signed concurrently';
      this.d.log('info', `skipped: ${reason}`, { pendingId: id });
      return { kind: 'skipped', reason };
    }

    let signers: SigningKey[] = [];
    let wipePlan: (() => void) | undefined;
    let recheckPolicy: (() => void) | undefined;
    let rawTx: string;
    let spends: SpendRecord[] = [];
    let moved: WithdrawalAmounts;
    let signatureIds: string[];
    let policyDenial: AuditEvent | undefined;
    let reserved = false;
    try {
      const family = chainFamily(pending.chain);
      const resolved = resolveKeys(pending, family, this.d.testnet, (sid) => vault.store.getEntry(sid), {
        derivePublicKey: (entry, chain, index) => {
          // Tatum derives a top-level index on the transaction's chain; when that path is not the
          // wallet's own, only the mnemonic knows the account, so it is decrypted (and audited) here.
          vault.record({
            event: 'unwrap',
            subject: id,
            result: 'ok',
            details: {
              pendingId: id,
              chain: pending.chain,
              purpose: 'public key',
              keys: [{ signatureId: entry.signatureId, where: 'host', index, path: chain }],
            },
          });
          // SOL and EGLD (SLIP-0010 ed25519) have no xpub: every mnemonic child's public key needs the mnemonic.
          const fam = chainFamily(chain);
          if (fam === 'sol' || fam === 'egld') return mnemonicEd25519PublicKey(vault, entry, index);
          return derivedPublicKey(vault, entry, chain, index, this.d.signerDeps);
        },
      });
      for (const note of resolved.notes) this.d.log('warn', note, { pendingId: id, chain: pending.chain });
      signatureIds = resolved.signatureIds;
      // ADA keys are BIP32-Ed25519 mnemonic children, signed on the host (planAda), never through the token signer.
      signers = family === 'ada' ? [] : resolved.refs.map((r: KeyRef) => signingKeyFor(vault, r, this.d.signerDeps));
      const plan = await this.plan(pending, family, signers, resolved.refs);
      wipePlan = plan.wipe;
      const own = family === 'utxo' || family === 'bch' ? ownScripts(signers.map((s) => s.publicKey)) : undefined;
      const movements = movementsOf(plan.decoded, own);
      const sids = signatureIds;
      const decoded = plan.decoded;
      {
        // Always: the built-in fee limits and contract-call rules hold without a policy file.
        const since = new Date((this.d.now?.() ?? new Date()).getTime() - DAY_MS);
        const evaluate = (spent: (scope: string, asset: string) => bigint) =>
          evaluatePolicy(
            this.d.policy,
            decoded,
            { chain: pending.chain, signatureIds: sids, spent24h: spent, defaultDeny: !this.d.testnet },
            own,
          );
        const recorded = (scope: string, asset: string): bigint =>
          journal.spentSince(pending.chain, this.d.testnet, scope, asset, since);
        // Counted again under the store's writer lock when the signature is recorded: the spend
        // rows every signer (other daemons on the same store) recorded meanwhile are in by then.
        recheckPolicy = () => {
          const again = evaluate(recorded);
          if (!again.ok) {
            throw new HardkmsError(
              'POLICY_VIOLATION',
              `${again.reason} (counted again when the signature was recorded: another signer recorded transactions meanwhile)`,
              {
                hint: 'The signature was discarded; nothing was broadcast. Change the policy file if it should be allowed.',
              },
            );
          }
        };
        const verdict = evaluate(
          (scope, asset) =>
            recorded(scope, asset) + (this.reserved.get(this.reserveKey(pending.chain, scope, asset)) ?? 0n),
        );
        if (!verdict.ok) {
          policyDenial = {
            event: 'policy',
            subject: id,
            result: 'denied',
            details: { pendingId: id, chain: pending.chain, reason: verdict.reason, rules: verdict.rulesApplied },
          };
          throw new HardkmsError('POLICY_VIOLATION', verdict.reason, {
            hint: 'The transaction was not signed. Change the policy file if it should be allowed.',
          });
        }
        spends = movements.flatMap((m) => [
          { scope: 'chain', asset: m.asset, amount: m.amount },
          ...signatureIds.map((sid) => ({ scope: `wallet:${sid}`, asset: m.asset, amount: m.amount })),
        ]);
        // In the same turn as the verdict: a concurrent verdict sees these amounts.
        this.reserve(pending.chain, spends, 1n);
        reserved = true;
        // The keys are unwrapped (private-key wallets, in the token) or their mnemonic decrypted
        // (the host derives the child key) inside plan.sign(); recorded (durably) before it happens.
        await this.steps.record(
          {
            event: 'policy',
            subject: id,
            result: 'ok',
            details: { pendingId: id, chain: pending.chain, rules: verdict.rulesApplied },
          },
          {
            event: 'unwrap',
            subject: id,
            result: 'ok',
            details: {
              pendingId: id,
              chain: pending.chain,
              keys: signers.map((k) => ({
                signatureId: k.signatureId,
                ...(k.index === undefined ? { where: 'token' } : { where: 'host', index: k.index }),
              })),
            },
          },
        );
      }
      moved = withdrawalAmounts(movements);
      rawTx = await plan.sign();
    } catch (e) {
      if (reserved) this.reserve(pending.chain, spends, -1n);
      const error = reportText(e);
      const policy = isHardkmsError(e) && e.code === 'POLICY_VIOLATION';
      const events: AuditEvent[] = policyDenial !== undefined ? [policyDenial] : [];
      if (!policy && before?.error !== error)
        events.push({
          event: 'sign',
          subject: id,
          result: 'fail',
          details: { pendingId: id, chain: pending.chain, error },
        });
      await this.failStep(id, error, events);
      this.d.log('warn', 'pending transaction not signed', { pendingId: id, chain: pending.chain, error });
      return { kind: 'failed', error, signed: false };
    } finally {
      for (const s of signers) s.wipe();
      wipePlan?.();
    }

    let rawTxHash: string;
    try {
      // The signature and its record commit together; the raw transaction leaves only after.
      rawTxHash = await this.steps.commit(
        () => journal.sign(id, rawTx, this.d.testnet, spends, recheckPolicy),
        (h) => [
          {
            event: 'sign',
            subject: id,
            result: 'ok',
            // What it moves and its fee, under the record's signature: `hardkms audit withdrawals` sums them.
            details: {
              pendingId: id,
              chain: pending.chain,
              rawTxHash: h,
              signatureIds,
              approvalRequired,
              approved: approvalRequired,
              testnet: this.d.testnet,
              ...moved,
            },
          },
        ],
      );
    } catch (e) {
      if (isHardkmsError(e) && e.code === 'POLICY_VIOLATION') {
        const error = reportText(e);
        await this.failStep(id, error, [
          {
            event: 'policy',
            subject: id,
            result: 'denied',
            details: { pendingId: id, chain: pending.chain, reason: e.message, recheck: true },
          },
        ]);
        this.d.log('warn', 'pending transaction not signed', { pendingId: id, chain: pending.chain, error });
        return { kind: 'failed', error, signed: false };
      }
      // Our claim lapsed and another signer took the id: what we signed never leaves.
      if (!isHardkmsError(e) || e.code !== 'JOURNAL_CLAIM_LOST') throw e;
      this.d.log(
        'warn',
        'skipped: another signer recorded this pending transaction first; our signature is discarded',
        { pendingId: id },
      );
      return { kind: 'skipped', reason: 'another signer recorded it first' };
    } finally {
      // Signed (now in the journal's spend rows) or not signed at all: either way no longer reserved.
      this.reserve(pending.chain, spends, -1n);
    }
    this.d.log('info', 'signed', { pendingId: id, chain: pending.chain, rawTxHash });
    this.d.afterSignJournaled?.(id);
    return this.broadcast(pending, rawTx, false);
  }

  private async plan(
    pending: PendingTransaction,
    family: ChainFamily,
    signers: SigningKey[],
    refs: readonly KeyRef[],
  ): Promise<Plan> {
    const payload = pending.serializedTransaction;
    const chain = pending.chain;
    // Each family's modules on its first transaction: their libraries (ethers, bitcoinjs-lib's
    // transaction code, stellar-base, ripple, algosdk, thor-devkit) are start-up CPU and memory
    // that a daemon cycle without that family's transactions should not pay.
    switch (family) {
      case 'utxo': {
        const { decodeUtxo, signUtxo } = await import('../../chains/utxo/sign.js');
        const c = chain as UtxoChainCode;
        const decoded = decodeUtxo(payload, c, utxoNetwork(c, this.d.testnet));
        const opts =
          pending.withdrawalId !== undefined
            ? { chain: c, withdrawalResponses: pending.withdrawalResponses }
            : { chain: c };
        return { decoded, sign: () => signUtxo(payload, signers, opts) };
      }
      case 'bch': {
        const { decodeBch, signBch } = await import('../../chains/bch/sign.js');
        return {
          decoded: decodeBch(payload, utxoNetwork('BCH', this.d.testnet)),
          sign: () => signBch(payload, signers),
        };
      }
      case 'tron': {
        const { decodeTron, signTron } = await import('../../chains/tron/sign.js');
        return { decoded: decodeTron(payload), sign: () => signTron(payload, signers) };
      }
      case 'evm': {
        if (chain === 'VET') return this.planVet(payload, signers);
        const [{ decodeEvm, signEvm }, { evmAddressOf }] = await Promise.all([
          import('../../chains/evm/sign.js'),
          import('../../chains/evm/address.js'),
        ]);
        const chainId = this.d.evm.chainId(chain);
        const first = signers[0];
        const fill: EvmFill =
          first === undefined
            ? {}
            : await this.d.evm.fill(chain, payload, evmAddressOf(first.publicKey), {
                withdrawal: pending.withdrawalId !== undefined,
              });
        const opts = { chain, chainId, fill };
        return { decoded: decodeEvm(payload, opts), sign: () => signEvm(payload, signers, opts) };
      }
      case 'xlm': {
        const { decodeXlm, signXlm } = await import('../../chains/xlm/sign.js');
        return this.tokenEd25519Plan(payload, refs, decodeXlm, signXlm);
      }
      case 'xrp': {
        const { decodeXrp, signXrp } = await import('../../chains/xrp/sign.js');
        const ref = refs[0];
        const signer = signers[0];
        const key: XrpKey | undefined =
          ref === undefined || signer === undefined
            ? undefined
            : ref.entry.publicData.keyType === 'ed25519'
              ? { curve: 'ed25519', signer: ed25519SignerFor(this.d.vault, ref) }
              : { curve: 'secp256k1', signer };
        return { decoded: decodeXrp(payload), sign: () => signXrp(payload, key) };
      }
      case 'sol':
        return this.planSol(payload, refs);
      case 'egld':
        return this.planEgld(payload, refs);
      case 'ada':
        return this.planAda(payload, refs);
      case 'algo': {
        const { decodeAlgo, signAlgo } = await import('../../chains/algo/sign.js');
        return this.tokenEd25519Plan(payload, refs, decodeAlgo, signAlgo);
      }
    }
  }

  /** XLM and ALGO: ed25519 keys stored in the token, one signature each in the token; the network from --testnet. */
  private tokenEd25519Plan(
    payload: string,
    refs: readonly KeyRef[],
    decode: (payload: string, testnet: boolean) => DecodedTx,
    sign: (payload: string, signers: readonly Ed25519Signer[], testnet: boolean) => Promise<string>,
  ): Plan {
    const testnet = this.d.testnet;
    return {
      decoded: decode(payload, testnet),
      sign: () =>
        sign(
          payload,
          refs.map((r) => ed25519SignerFor(this.d.vault, r)),
          testnet,
        ),
    };
  }

  /**
   * SOL: every required signer must be a wallet of the transaction (checked before anything
   * else), SPL token accounts are looked up for the policy, and the blockhash is fetched
   * just before signing. Tatum's mint key is wiped with the wallets' keys.
   */
  private async planSol(payload: string, refs: readonly KeyRef[]): Promise<Plan> {
    const rpc = requiredNode(this.d.sol, 'SOL', 'a Solana RPC');
    const { decodeSol, parseSolPayload, signSol, solAccountsToLookUp, solSignersFor } =
      await import('../../chains/sol/sign.js');
    const { ed25519 } = await import('@noble/curves/ed25519');
    const p = parseSolPayload(payload);
    const mintSeed = p.mintSeed;
    const wallets = refs.map((r) => ed25519SignerForRef(this.d.vault, r));
    return withHostKeys(wallets, async (alsoWipe) => {
      if (mintSeed !== undefined) alsoWipe(() => mintSeed.fill(0));
      const mint =
        mintSeed === undefined
          ? undefined
          : {
              publicKey: ed25519.getPublicKey(mintSeed),
              sign: (m: Uint8Array) => Promise.resolve(ed25519.sign(m, mintSeed)),
            };
      const ordered = solSignersFor(p, wallets, mint);
      const accounts = new Map<string, SolTokenAccount | undefined>();
      for (const a of solAccountsToLookUp(p)) accounts.set(a, await rpc.tokenAccount(a));
      const decoded = decodeSol(p, accounts);
      return { decoded, sign: async () => signSol(p, ordered, await rpc.latestBlockhash()) };
    });
  }

  /**
   * ADA through Rosetta's construction flow (chains/ada/sign.ts): the operations are checked,
   * every input must belong to a key of the transaction, and the payloads answer is checked
   * before the policy sees the decoded transaction. Keys are derived only when sign() runs
   * (after the policy).
   */
  private async planAda(payload: string, refs: readonly KeyRef[]): Promise<Plan> {
    const rosetta = requiredNode(this.d.ada, 'ADA', 'a Cardano Rosetta node');
    const { adaSignersByAddress, decodeAda, parseAdaOperations, prepareAda } = await import('../../chains/ada/sign.js');
    const { adaAddress } = await import('../../chains/ada/address.js');
    const { adaSignerForRef } = await import('./ada-signing-keys.js');
    const testnet = this.d.testnet;
    const signers = refs.map((r) =>
      adaSignerForRef(this.d.vault, { entry: r.entry, index: r.index ?? 0, publicKey: r.publicKey }),
    );
    return withHostKeys(signers, async () => {
      const ops = parseAdaOperations(payload, testnet);
      const byAddress = adaSignersByAddress(ops, signers, testnet);
      const prepared = await prepareAda(ops, rosetta, byAddress, testnet);
      const decoded = decodeAda(
        ops,
        signers.map((s) => adaAddress(s.publicKey, testnet)),
      );
      return { decoded, sign: async () => (await prepared.sign()).txData };
    });
  }

  /** EGLD as Tatum's SDK fills it: nonce, minimum gas price, chain id and version from the node, gas limit from its cost estimate. */
  private async planEgld(payload: string, refs: readonly KeyRef[]): Promise<Plan> {
    const node = requiredNode(this.d.egld, 'EGLD', 'a MultiversX gateway');
    const ref = refs[0];
    if (ref === undefined) throw new HardkmsError('TX_KEY_NOT_RESOLVED', 'no key to sign the EGLD transaction with');
    const { checkEgldChainId, decodeEgld, egldCostRequest, egldSender, signEgld } =
      await import('../../chains/egld/sign.js');
    const signer = ed25519SignerForRef(this.d.vault, ref);
    return withHostKeys([signer], async () => {
      const sender = egldSender(payload, signer);
      const config = await node.config();
      checkEgldChainId(config.chainID, this.d.testnet);
      const base = {
        nonce: await node.nonce(sender),
        gasPrice: config.minGasPrice,
        chainID: config.chainID,
        version: config.minTransactionVersion,
      };
      const fill: EgldFill = { ...base, gasLimit: await node.cost(egldCostRequest(payload, sender, base)) };
      return { decoded: decodeEgld(payload, fill), sign: () => signEgld(payload, signer, fill, this.d.testnet) };
    });
  }

  /** VET: gas from the node's estimate and blockRef from its best block (as thorify), nonce from the token's RNG when the payload has none. */
  private async planVet(payload: string, signers: SigningKey[]): Promise<Plan> {
    const [{ decodeVet, parseVetPayload, signVet }, { evmAddressOf }] = await Promise.all([
      import('../../chains/vet/sign.js'),
      import('../../chains/evm/address.js'),
    ]);
    const testnet = this.d.testnet;
    const f = parseVetPayload(payload, testnet);
    const first = signers[0];
    const vet = requiredNode(this.d.vet, 'VET', 'a VeChain node', 'Set HARDKMS_RPC_VET.');
    if (first === undefined) throw new HardkmsError('TX_KEY_NOT_RESOLVED', 'no key to sign the VET transaction with');
    const gas = await vet.estimateGas(f.clause, evmAddressOf(first.publicKey));
    const blockRef = await vet.blockRef();
    const nonce = BigInt(`0x${this.d.vault.token.random(8).toString('hex')}`);
    const fill = { gas, blockRef, nonce };
    return { decoded: decodeVet(payload, testnet, fill), sign: () => signVet(payload, signers, testnet, fill) };
  }

  /**
   * Before a journaled transaction is sent again: a signer killed (or cut off from the store)
   * after Tatum accepted its broadcast and before its journal recorded it left this row
   * signed, and sending it again would be a second accepted broadcast of the id (the same
   * bytes, so no double spend, but not exactly once). Tatum's `GET /v3/kms/{id}` says whether
   * the id is completed (§2.3 txId): if so the broadcast is recorded, journal and audit, and
   * nothing is sent. Undefined: send the same raw transaction (not completed, or Tatum does
   * not know the id: its answer to the broadcast decides). When Tatum cannot be asked, nothing
   * is sent this cycle and the claim is released: the next cycle asks again.
   */
  private async completedAtTatum(pending: PendingTransaction, rawTx: string): Promise<Outcome | undefined> {
    const { broadcaster, journal } = this.d;
    if (broadcaster.completion === undefined) return undefined;
    const id = pending.id;
    let txId: string;
    try {
      const c = await broadcaster.completion(pending);
      if (c.state !== 'completed') return undefined;
      txId = c.txId;
    } catch (e) {
      await this.steps.commit(() => journal.release(id));
      this.d.log('warn', 'could not ask Tatum whether the pending transaction is complete; not re-sent this cycle', {
        pendingId: id,
        error: reportText(e),
      });
      return { kind: 'skipped', reason: 'Tatum did not say whether it is already complete' };
    }
    let localTxId: string | undefined;
    try {
      const { localTxHash } = await import('../sinks/local-tx-hash.js');
      const local = localTxHash(pending.chain, rawTx);
      // 'sha256:…' is its stand-in for a form it cannot decode, no chain's id.
      if (!local.startsWith('sha256:')) localTxId = local;
    } catch {
      // A chain whose id is not computed here: Tatum's txId is recorded as it is.
    }
    // Tatum completed the id with another transaction than the one journaled: said in the record and the log.
    const other = localTxId !== undefined && localTxId.toLowerCase() !== txId.toLowerCase();
    await this.broadcastStep(pending, txId, {
      via: 'tatum-completed',
      rebroadcast: true,
      ...(other ? { localTxId } : {}),
    });
    this.d.log(
      other ? 'warn' : 'info',
      other
        ? 'Tatum reports the pending transaction completed with another transaction than the one journaled; not sent again'
        : 'Tatum had already accepted the journaled transaction (its broadcast was not recorded): recorded, not sent again',
      { pendingId: id, chain: pending.chain, txId, ...(other ? { localTxId } : {}) },
    );
    return { kind: 'broadcast', txId, rebroadcast: true };
  }

  private async broadcast(pending: PendingTransaction, rawTx: string, rebroadcast: boolean): Promise<Outcome> {
    const id = pending.id;
    try {
      const r = await this.d.broadcaster.send(pending, rawTx);
      this.d.afterBroadcastAccepted?.(id);
      await this.broadcastStep(pending, r.txId, {
        via: r.via,
        rebroadcast,
        ...(r.completed === undefined ? {} : { completed: r.completed }),
        ...(r.warning === undefined ? {} : { warning: r.warning }),
      });
      if (r.warning !== undefined)
        this.d.log('warn', `broadcast accepted, but ${r.warning}`, { pendingId: id, txId: r.txId });
      if (r.completed === false)
        this.d.log('warn', 'withdrawal broadcast, but Tatum did not complete it: complete it by hand', {
          pendingId: id,
          txId: r.txId,
        });
      this.d.log('info', 'broadcast', { pendingId: id, chain: pending.chain, txId: r.txId, via: r.via });
      return { kind: 'broadcast', txId: r.txId, rebroadcast };
    } catch (e) {
      const answer = reportText(e);
      const reason = isHttpError(e) || isHardkmsError(e) ? neverMinableReason(answer) : undefined;
      if (reason !== undefined) return this.neverMinable(pending, rawTx, reason, answer, rebroadcast);
      const error = answer;
      await this.broadcastFailStep(pending, error, { rebroadcast });
      this.d.log('warn', 'broadcast failed; the same signed transaction is sent again next cycle', {
        pendingId: id,
        error,
      });
      return { kind: 'failed', error, signed: true, stage: 'broadcast' };
    }
  }

  /**
   * The network refused the signed transaction for good. One exception: "nonce too low" is
   * also what a node says when this very transaction was mined meanwhile (an earlier send
   * whose answer was lost); where the chain can be asked, a mined one counts as broadcast.
   */
  private async neverMinable(
    pending: PendingTransaction,
    rawTx: string,
    reason: string,
    answer: string,
    rebroadcast: boolean,
  ): Promise<Outcome> {
    const id = pending.id;
    const { localTxHash } = await import('../sinks/local-tx-hash.js');
    const txHash = localTxHash(pending.chain, rawTx);
    // VET is not an EVM JSON-RPC chain: its transactions cannot be looked up through the EVM filler.
    if (chainFamily(pending.chain) === 'evm' && pending.chain !== 'VET' && this.d.evm.isMined !== undefined) {
      let mined: boolean | undefined;
      try {
        mined = await this.d.evm.isMined(pending.chain, txHash);
      } catch (e) {
        this.d.log('warn', 'could not ask the chain whether the refused transaction was mined', {
          pendingId: id,
          txId: txHash,
          error: reportText(e),
        });
      }
      if (mined === true) {
        await this.broadcastStep(pending, txHash, { via: 'already-mined', rebroadcast, answer: answer.slice(0, 500) });
        this.d.log('info', 'the node refused the re-sent transaction because it is already mined', {
          pendingId: id,
          txId: txHash,
        });
        return { kind: 'broadcast', txId: txHash, rebroadcast };
      }
    }
    const error = neverMinableError(id, `${reason}; transaction ${txHash}`, answer);
    await this.broadcastFailStep(pending, error, { rebroadcast, neverMinable: true, txId: txHash });
    this.d.log(
      'error',
      'the signed transaction can never be mined; it is no longer re-sent: see hardkms journal release',
      {
        pendingId: id,
        chain: pending.chain,
        txId: txHash,
        reason,
      },
    );
    return { kind: 'failed', error, signed: true };
  }

  /** The journal's failure and its records (none when the failure is already the journaled one), as one step. */
  private failStep(id: string, error: string, events: readonly AuditEvent[]): Promise<void> {
    return this.steps.commit(
      () => this.d.journal.fail(id, error),
      () => events,
    );
  }

  /**
   * A broadcast that failed: the journal's failure and its record (pendingId, chain, error, then
   * `details`), no record when the same failure is already the journaled one (a node refusing
   * every cycle would otherwise fill the log).
   */
  private broadcastFailStep(
    pending: PendingTransaction,
    error: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const id = pending.id;
    const known = this.d.journal.get(id)?.error === error;
    return this.failStep(
      id,
      error,
      known
        ? []
        : [
            {
              event: 'broadcast',
              subject: id,
              result: 'fail',
              details: { pendingId: id, chain: pending.chain, error, ...details },
            },
          ],
    );
  }

  /** The journal's broadcast and its record (pendingId, chain, txId, then `details`), as one step. */
  private broadcastStep(pending: PendingTransaction, txId: string, details: Record<string, unknown>): Promise<void> {
    return this.steps.commit(
      () => this.d.journal.broadcast(pending.id, txId),
      () => [
        {
          event: 'broadcast',
          subject: pending.id,
          result: 'ok',
          details: { pendingId: pending.id, chain: pending.chain, txId, ...details },
        },
      ],
    );
  }

  private reserveKey(chain: string, scope: string, asset: string): string {
    return `${chain}|${this.d.testnet ? 1 : 0}|${scope}|${asset}`;
  }

  /** Adds (sign 1n) or removes (-1n) what a transaction moves to the amounts not yet journaled. */
  private reserve(chain: string, spends: readonly SpendRecord[], sign: 1n | -1n): void {
    for (const s of spends) {
      const key = this.reserveKey(chain, s.scope, s.asset);
      const next = (this.reserved.get(key) ?? 0n) + sign * s.amount;
      if (next === 0n) this.reserved.delete(key);
      else this.reserved.set(key, next);
    }
  }

  private safeAudit(event: Parameters<Vault['record']>[0]): void {
    try {
      this.d.vault.record(event);
    } catch {
      // The store or token failing is what is being reported; a second failure would hide it.
    }
  }
}
