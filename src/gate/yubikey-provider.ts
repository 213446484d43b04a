import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditEventName } from '../audit/events.js';
import { HardkmsError, InputError, isHardkmsError } from '../errors.js';
import {
  decodeVaultSecret,
  encodeVaultSecret,
  type SealContext,
  type SealRecord,
  type VaultSecret,
  type VaultSecretProvider,
} from '../vault/secret.js';
import { assertSlot, newChallenge } from './challenge.js';
import { DEFAULT_TOUCH_TIMEOUT_MS, isDriverName, type DriverName, type YubiKeyDriver } from './drivers/driver.js';
import { getDriver } from './drivers/index.js';
import {
  credentialIdentity,
  findCredential,
  parseYubiKeySealRecord,
  type CredentialIdentity,
  type GateCredential,
  type YubiKeySealRecord,
} from './seal-record.js';
import { decodeRecoverySheet, type RecoveryFormat, type RecoverySheet } from './recovery.js';
import { maskedTag, maskShare, credentialTag, unmaskShare } from './recovery-mask.js';
import { decryptShare, SALT_BYTES, encryptShare } from './share-cipher.js';
import { combine, split } from './shamir.js';
import { legacyToolPath, resolveTool } from './drivers/tool-path.js';

/** A YubiKey to enroll. */
export interface GateCredentialSpec {
  label: string;
  serial: number;
  /** Default 2. */
  slot?: 1 | 2;
  /** Default: the provider's `driver`. */
  driver?: DriverName;
  /** Mix an operator passphrase into this credential's key (asked through getPassphrase). */
  passphrase?: boolean;
  /** Absolute path of the tool; default: resolved on PATH at enrollment (checked, then recorded). */
  tool?: string;
}

export interface PassphraseRequest {
  credentialId: string;
  label: string;
  serial: number;
  /** 'enroll': a new passphrase is being set (the CLI should ask twice); 'unseal': the enrolled one. */
  purpose: 'enroll' | 'unseal' | 'recover';
}

export interface YubiKeyGateOptions {
  /** YubiKeys to enroll on seal()/sealWithRecovery(). */
  credentials?: GateCredentialSpec[];
  /** M of the M-of-N quorum; default 2 when at least 2 credentials are given, else 1. */
  threshold?: number;
  /** Default driver for specs without one; recorded in the seal record. Default 'ykman'. */
  driver?: DriverName;
  /** Accept emulated keys for a mainnet vault (the CLI's --allow-emulated-yubikey). */
  allowEmulated?: boolean;
  /** Accept threshold 1 for a mainnet vault (the CLI's --allow-single-operator). */
  allowSingleOperator?: boolean;
  /** Driver instances to use instead of getDriver(name) (tests, custom tool paths). */
  drivers?: Partial<Record<DriverName, YubiKeyDriver>>;
  /** Emulator key directory, overriding HARDKMS_YUBIKEY_EMULATOR_DIR. */
  emulatorDir?: string;
  /** Told "Touch the YubiKey <label> (serial N)…" before each touch; the CLI prints it to stderr. */
  onWait?: (message: string) => void;
  /** Supplies an operator passphrase (UTF-8 bytes; the provider wipes it). Required if any credential uses one. */
  getPassphrase?: (request: PassphraseRequest) => Promise<Buffer>;
  /** Per-touch timeout, default 15 s. */
  timeoutMs?: number;
  /** The command the touches authorise ("getaddress", "export", "daemon"): named in every touch prompt. */
  command?: string;
  /**
   * Asked of each operator before their unseal touch when the command reveals a secret
   * and the vault has no OTP: false (or a throw) refuses the unseal.
   */
  confirm?: (request: ConfirmRequest) => Promise<boolean>;
}

interface ConfirmRequest {
  credentialId: string;
  label: string;
  serial: number;
  vaultId: string;
  command: string;
}

export interface RecoveryShare {
  credentialId: string;
  label: string;
  /** The sheet's body (format 1: the raw Shamir share; 2: bound to the operator's passphrase); print with recoveryWordsBuffer, then wipe. */
  share: Buffer;
  format: RecoveryFormat;
}

export interface GateSealResult {
  record: YubiKeySealRecord;
  /** One per credential, same order. Shown once, never stored; the caller wipes them. */
  recoveryShares: RecoveryShare[];
}

/** A YubiKey to enroll: a new one from its spec, or an enrolled one whose share is sealed again. */
type EnrollTarget = CredentialIdentity;

interface RecordFlags {
  driver: DriverName;
  allowEmulated: boolean;
  allowSingleOperator: boolean;
}

/**
 * The YubiKey gate: the vault secret split M-of-N, each share sealed under the
 * HMAC-SHA1 response of one enrolled YubiKey (see share-cipher.ts). Shares handed out as
 * recovery words are the same shares as the sealed ones, so any M distinct shares
 * of one split (touches or word sheets) rebuild the secret.
 *
 * Every re-split (enroll, revoke, rotate) uses new challenges, salts and a new
 * polynomial and returns new recovery shares; old and new shares do not mix. But M
 * shares of an OLD split (old word sheets, or an old wallet.dat backup plus M of the
 * keys enrolled in it) still rebuild the secret as long as the secret is unchanged.
 * To really cut off a revoked key or lost sheets, pass `newSecret` to revoke/rotate
 * (the caller re-keys the store and changes the token PIN to it).
 *
 * Audit events (details never hold responses, shares or passphrases):
 *   gate.seal, gate.enroll, gate.revoke, gate.rotate, gate.recover      ok | fail
 *   gate.unseal.credential   per credential tried: {credential, label, serial, driver, error?}
 *   gate.unseal.unenrolled   a present key that is not enrolled: {driver, serial}
 *   gate.unseal.emulator_refused  mainnet vault, emulator not allowed: {credentials}
 *   gate.unseal              ok {credentials, drivers} | fail {error, present, threshold}
 */
export class YubiKeyGateProvider implements VaultSecretProvider {
  readonly name = 'yubikey';
  private readonly opts: YubiKeyGateOptions;
  private readonly driverCache = new Map<string, YubiKeyDriver>();
  private pending: { record: YubiKeySealRecord; rotated: string[] } | undefined;

  constructor(opts: YubiKeyGateOptions = {}) {
    this.opts = opts;
  }

  async seal(secret: VaultSecret, ctx: SealContext): Promise<YubiKeySealRecord> {
    const { record, recoveryShares } = await this.sealWithRecovery(secret, ctx);
    wipeRecovery(recoveryShares);
    return record;
  }

  /** Enrolls the constructor's credentials; the CLI prints the recovery shares once. */
  async sealWithRecovery(secret: VaultSecret, ctx: SealContext): Promise<GateSealResult> {
    const specs = this.opts.credentials ?? [];
    const driver = this.opts.driver ?? 'ykman';
    const targets = specs.map((s) => this.targetFromSpec(s, driver));
    const threshold = this.opts.threshold ?? (targets.length >= 2 ? 2 : 1);
    const flags: RecordFlags = {
      driver,
      allowEmulated: this.opts.allowEmulated ?? false,
      allowSingleOperator: this.opts.allowSingleOperator ?? false,
    };
    return this.audited('gate.seal', ctx, { threshold, credentials: targets.map(credentialIdentity), ...flags }, () =>
      this.sealTargets(secret, targets, threshold, flags, ctx),
    );
  }

  async unseal(record: SealRecord, ctx: SealContext): Promise<VaultSecret> {
    this.pending = undefined;
    const shares: Buffer[] = [];
    const passphrases: Array<Buffer | undefined> = [];
    const used: GateCredential[] = [];
    let threshold: number | undefined;
    try {
      const rec = parseYubiKeySealRecord(record);
      threshold = rec.threshold;
      const usable = this.usableCredentials(rec, ctx);
      const present = await this.presentSerials(usable, ctx);
      const failures: Array<{ cred: GateCredential; error: HardkmsError }> = [];
      for (const cred of usable) {
        if (used.length >= rec.threshold) break;
        if (!present.serials.get(cred.driver)?.has(cred.serial)) continue;
        // A refusal ends the unseal: it is an operator's no, not a key that failed.
        if (this.opts.confirm) await this.confirmOperator(cred, ctx);
        try {
          const opened = await this.openCredential(cred, ctx);
          shares.push(opened.share);
          passphrases.push(opened.passphrase);
          used.push(cred);
          ctx.audit('gate.unseal.credential', 'ok', credentialDetails(cred));
        } catch (e) {
          if (!isHardkmsError(e)) throw e;
          failures.push({ cred, error: e });
          ctx.audit('gate.unseal.credential', 'fail', { ...credentialDetails(cred), error: e.code });
        }
      }
      if (used.length < rec.threshold) {
        throw quorumNotMet(rec, usable, present, failures, used.length);
      }
      const encoded = await combine(shares, rec.threshold);
      try {
        if (!checkMatches(rec, encoded, ctx.vaultId)) {
          throw new HardkmsError(
            'GATE_SECRET_MISMATCH',
            "The YubiKey shares opened, but they do not join to this vault's secret: the gate record was altered.",
            {
              hint: 'Restore wallet.dat from a backup, or rebuild the gate from the recovery words with `hardkms recover`.',
            },
          );
        }
        const rotated = await this.rotateChallenges(rec, used, shares, passphrases, ctx);
        const secret = decodeVaultSecret(encoded);
        this.pending = rotated;
        ctx.audit('gate.unseal', 'ok', {
          threshold: rec.threshold,
          credentials: used.map((c) => c.id),
          drivers: used.map((c) => c.driver),
          ...(ctx.mainnet && used.some((c) => c.driver === 'emulator') ? { emulatorOnMainnet: true } : {}),
        });
        return secret;
      } finally {
        encoded.fill(0);
      }
    } catch (e) {
      ctx.audit('gate.unseal', 'fail', {
        threshold,
        error: isHardkmsError(e) ? e.code : 'INTERNAL',
        credentials: used.map((c) => c.id),
      });
      throw e;
    } finally {
      for (const s of shares) s.fill(0);
      for (const p of passphrases) p?.fill(0);
    }
  }

  /**
   * The seal record as re-sealed by the last successful unseal (fresh challenges for the
   * credentials it used), for the vault to commit once it has authenticated the record
   * it started from. Taken once.
   */
  resealAfterUnseal(): { record: SealRecord; event: AuditEventName; details: Record<string, unknown> } | undefined {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return undefined;
    return { record: p.record, event: 'gate.challenges_rotated', details: { credentials: p.rotated } };
  }

  /** Adds YubiKeys: re-splits among the enrolled keys and the new ones (every key is touched). */
  async enroll(
    record: SealRecord,
    secret: VaultSecret,
    add: GateCredentialSpec[],
    ctx: SealContext,
    opts: { threshold?: number } = {},
  ): Promise<GateSealResult> {
    const rec = parseYubiKeySealRecord(record);
    const added = add.map((s) => this.targetFromSpec(s, rec.driver));
    const targets = [...rec.credentials.map(credentialIdentity), ...added];
    const threshold = opts.threshold ?? rec.threshold;
    return this.audited('gate.enroll', ctx, { added: added.map(credentialIdentity), threshold }, () => {
      assertSecretMatches(rec, secret, ctx.vaultId);
      return this.sealTargets(secret, targets, threshold, flagsOf(rec), ctx);
    });
  }

  /** Removes a YubiKey (by id, label or serial) and re-splits among the others (see newSecret above). */
  async revoke(
    record: SealRecord,
    secret: VaultSecret,
    credential: string,
    ctx: SealContext,
    opts: { threshold?: number; newSecret?: VaultSecret } = {},
  ): Promise<GateSealResult> {
    const rec = parseYubiKeySealRecord(record);
    const gone = findCredential(rec, credential);
    const targets = rec.credentials.filter((c) => c.id !== gone.id).map(credentialIdentity);
    const threshold = opts.threshold ?? rec.threshold;
    return this.audited(
      'gate.revoke',
      ctx,
      {
        credential: gone.id,
        label: gone.label,
        serial: gone.serial,
        threshold,
        newSecret: opts.newSecret !== undefined,
      },
      () => {
        if (targets.length < threshold) {
          throw new HardkmsError(
            'GATE_QUORUM_TOO_SMALL',
            `Revoking ${gone.label} would leave ${targets.length} YubiKey(s), fewer than the threshold ${threshold}.`,
            { hint: 'Enroll another YubiKey first, or lower the threshold.' },
          );
        }
        assertSecretMatches(rec, secret, ctx.vaultId);
        return this.sealTargets(opts.newSecret ?? secret, targets, threshold, flagsOf(rec), ctx);
      },
    );
  }

  /**
   * New challenges, salts and shares for every enrolled key: responses captured for the
   * old challenges open nothing in the new record. With `newSecret`, old records and
   * old recovery words are useless too.
   */
  async rotate(
    record: SealRecord,
    secret: VaultSecret,
    ctx: SealContext,
    opts: { newSecret?: VaultSecret } = {},
  ): Promise<GateSealResult> {
    const rec = parseYubiKeySealRecord(record);
    const details = {
      credentials: rec.credentials.map((c) => c.id),
      threshold: rec.threshold,
      newSecret: opts.newSecret !== undefined,
    };
    return this.audited('gate.rotate', ctx, details, () => {
      assertSecretMatches(rec, secret, ctx.vaultId);
      return this.sealTargets(
        opts.newSecret ?? secret,
        rec.credentials.map(credentialIdentity),
        rec.threshold,
        flagsOf(rec),
        ctx,
      );
    });
  }

  /**
   * Rebuilds the secret from recovery shares (raw, or as word strings). Follow with
   * sealWithRecovery() on a provider configured with the new YubiKeys.
   */
  async recover(
    record: SealRecord,
    shares: ReadonlyArray<Uint8Array | string | RecoverySheet>,
    ctx: SealContext,
  ): Promise<VaultSecret> {
    const rec = parseYubiKeySealRecord(record);
    return this.audited('gate.recover', ctx, { shares: shares.length, threshold: rec.threshold }, async () => {
      const raw: Buffer[] = [];
      try {
        for (const s of shares) {
          const sheet =
            typeof s === 'string'
              ? decodeRecoverySheet(s)
              : s instanceof Uint8Array
                ? { format: 1 as const, body: Buffer.from(s) }
                : s;
          raw.push(
            sheet.format === 1 ? Buffer.from(sheet.body) : await this.unmaskSheet(rec, sheet.body, raw.length + 1, ctx),
          );
          if (typeof s === 'string') sheet.body.fill(0);
        }
        if (raw.length < rec.threshold) {
          throw new HardkmsError(
            'GATE_QUORUM_NOT_MET',
            `Recovery needs ${rec.threshold} recovery shares; ${raw.length} were given.`,
            {
              hint: `Collect ${rec.threshold} different operators' recovery sheets.`,
            },
          );
        }
        const encoded = await combine(raw, rec.threshold);
        try {
          if (!checkMatches(rec, encoded, ctx.vaultId)) {
            throw new HardkmsError('GATE_RECOVERY_FAILED', "The recovery shares do not rebuild this vault's secret.", {
              hint: 'Use the sheets printed at the latest init, enroll, revoke or rotate of this vault: each of those makes new shares.',
            });
          }
          return decodeVaultSecret(encoded);
        } finally {
          encoded.fill(0);
        }
      } finally {
        for (const r of raw) r.fill(0);
      }
    });
  }

  // ---- internals ----

  private async sealTargets(
    secret: VaultSecret,
    targets: EnrollTarget[],
    threshold: number,
    flags: RecordFlags,
    ctx: SealContext,
  ): Promise<GateSealResult> {
    if (targets.length === 0) {
      throw new InputError('No YubiKey to enroll.', 'Give at least one YubiKey (--yubikeys N).');
    }
    const serials = new Set<number>();
    for (const t of targets) {
      if (serials.has(t.serial)) {
        throw new InputError(
          `The YubiKey with serial ${t.serial} is listed twice.`,
          'Each credential must be a different physical YubiKey: one key cannot count as two operators.',
        );
      }
      serials.add(t.serial);
    }
    if (ctx.mainnet && !flags.allowEmulated && targets.some((t) => t.driver === 'emulator')) {
      throw emulatorRefused(targets.filter((t) => t.driver === 'emulator').map((t) => t.label));
    }
    if (ctx.mainnet && threshold < 2 && !flags.allowSingleOperator) {
      throw new HardkmsError(
        'GATE_SINGLE_OPERATOR_REFUSED',
        'A vault for mainnet wallets needs a threshold of at least 2 YubiKeys (4-eye principle).',
        {
          hint: 'Use --threshold 2 or more, or pass --allow-single-operator (recorded and audited).',
        },
      );
    }
    const encoded = encodeVaultSecret(secret);
    let shares: Buffer[] = [];
    try {
      shares = await split(encoded, targets.length, threshold);
      const credentials: GateCredential[] = [];
      const recoveryShares: RecoveryShare[] = [];
      try {
        for (let i = 0; i < targets.length; i++) {
          const one = await this.sealOne(targets[i]!, shares[i]!, ctx);
          credentials.push(one.credential);
          recoveryShares.push(one.recovery);
        }
      } catch (e) {
        wipeRecovery(recoveryShares);
        throw e;
      }
      const record: YubiKeySealRecord = {
        provider: 'yubikey',
        version: 1,
        threshold,
        driver: flags.driver,
        allowEmulated: flags.allowEmulated,
        allowSingleOperator: flags.allowSingleOperator,
        check: checkValue(encoded, ctx.vaultId).toString('hex'),
        credentials,
      };
      return { record, recoveryShares };
    } finally {
      encoded.fill(0);
      for (const s of shares) s.fill(0);
    }
  }

  /** The credential, and its recovery share: bound to the passphrase when there is one, else a copy of the raw share. */
  private async sealOne(
    t: EnrollTarget,
    share: Buffer,
    ctx: SealContext,
  ): Promise<{ credential: GateCredential; recovery: RecoveryShare }> {
    const challenge = newChallenge();
    const salt = randomBytes(SALT_BYTES);
    const recoverySalt = t.passphrase ? randomBytes(SALT_BYTES) : undefined;
    const passphrase = t.passphrase ? await this.passphrase(t, 'enroll') : undefined;
    let response: Buffer | undefined;
    try {
      let touch: boolean | undefined;
      response = await this.driver(t.driver, t.tool).respond(t, challenge, {
        ...this.respondOptions(this.touchPrompt(t, ctx, 'enroll')),
        onTouchInfo: (required) => (touch = required),
      });
      if (ctx.mainnet && touch === false) {
        throw new HardkmsError(
          'GATE_TOUCH_NOT_REQUIRED',
          `The YubiKey ${t.label} (serial ${t.serial}) answered without a touch: its slot ${t.slot} does not require one, so malware could ask it silently.`,
          {
            hint: `Program the slot with touch: \`ykman otp chalresp --touch --generate ${t.slot}\` (this erases its old secret), then enroll it.`,
          },
        );
      }
      const { iv, ct } = await encryptShare(share, response, {
        salt32: salt,
        credentialId: t.id,
        vaultId: ctx.vaultId,
        passphrase,
      });
      const recovery: RecoveryShare =
        passphrase && recoverySalt
          ? {
              credentialId: t.id,
              label: t.label,
              share: await maskShare(share, passphrase, {
                salt32: recoverySalt,
                vaultId: ctx.vaultId,
                credentialId: t.id,
              }),
              format: 2,
            }
          : { credentialId: t.id, label: t.label, share: Buffer.from(share), format: 1 };
      const credential: GateCredential = {
        id: t.id,
        label: t.label,
        serial: t.serial,
        slot: t.slot,
        driver: t.driver,
        challenge: challenge.toString('hex'),
        salt: salt.toString('hex'),
        iv: iv.toString('hex'),
        ct: ct.toString('hex'),
        passphrase: t.passphrase,
        ...(recoverySalt ? { recoverySalt: recoverySalt.toString('hex') } : {}),
        ...(t.tool ? { tool: t.tool } : {}),
      };
      return { credential, recovery };
    } finally {
      response?.fill(0);
      passphrase?.fill(0);
    }
  }

  /**
   * A passphrase-bound sheet back to its raw share: the operator it names types their
   * passphrase. A sheet of a credential no longer in the gate (an older split) is refused.
   */
  private async unmaskSheet(rec: YubiKeySealRecord, body: Buffer, n: number, ctx: SealContext): Promise<Buffer> {
    const tag = maskedTag(body);
    const cred = rec.credentials.find((c) => c.recoverySalt !== undefined && credentialTag(c.id).equals(tag));
    if (!cred) {
      throw new HardkmsError(
        'GATE_RECOVERY_FAILED',
        `Recovery share ${n} belongs to no operator of this vault's current gate.`,
        {
          hint: 'Use the sheets made at the latest init, enroll, revoke or rotate of this vault: each of those makes new shares.',
        },
      );
    }
    let passphrase: Buffer;
    try {
      passphrase = await this.passphrase(cred, 'recover');
    } catch (e) {
      if (!isHardkmsError(e)) throw e;
      throw new HardkmsError(
        'GATE_PASSPHRASE_REQUIRED',
        `Recovery share ${n} is ${cred.label}'s and is bound to ${cred.label}'s passphrase: ${e.message}`,
        {
          hint: `${cred.label} types the passphrase set with their YubiKey after the shares (one line each, in the order of the shares).`,
        },
      );
    }
    try {
      return await unmaskShare(body, passphrase, {
        salt32: Buffer.from(cred.recoverySalt!, 'hex'),
        vaultId: ctx.vaultId,
        credentialId: cred.id,
        label: cred.label,
      });
    } finally {
      passphrase.fill(0);
    }
  }

  private async confirmOperator(cred: GateCredential, ctx: SealContext): Promise<void> {
    const command = this.opts.command ?? 'hardkms';
    const ok = await this.opts.confirm!({
      credentialId: cred.id,
      label: cred.label,
      serial: cred.serial,
      vaultId: ctx.vaultId,
      command,
    });
    if (!ok) {
      ctx.audit('gate.confirm', 'fail', { ...credentialDetails(cred), command });
      throw new HardkmsError(
        'GATE_NOT_CONFIRMED',
        `The operator of the YubiKey ${cred.label} did not approve \`hardkms ${command}\`, which reveals secrets; nothing was shown.`,
        {
          hint: 'Each operator whose key unseals types "yes" at their prompt; or enroll a Yubico OTP key (`hardkms otp add`) and pass --otp.',
        },
      );
    }
    ctx.audit('gate.confirm', 'ok', { ...credentialDetails(cred), command });
  }

  /** The share of one credential, and its passphrase (kept for the re-seal; the caller wipes both). */
  private async openCredential(
    cred: GateCredential,
    ctx: SealContext,
  ): Promise<{ share: Buffer; passphrase: Buffer | undefined }> {
    const passphrase = cred.passphrase ? await this.passphrase(cred, 'unseal') : undefined;
    let response: Buffer | undefined;
    try {
      response = await this.driver(cred.driver, toolOf(cred)).respond(
        cred,
        Buffer.from(cred.challenge, 'hex'),
        this.respondOptions(this.touchPrompt(cred, ctx, 'unseal')),
      );
      const share = await decryptShare({ iv: Buffer.from(cred.iv, 'hex'), ct: Buffer.from(cred.ct, 'hex') }, response, {
        salt32: Buffer.from(cred.salt, 'hex'),
        credentialId: cred.id,
        vaultId: ctx.vaultId,
        passphrase,
        label: cred.label,
      });
      return { share, passphrase };
    } catch (e) {
      passphrase?.fill(0);
      throw e;
    } finally {
      response?.fill(0);
    }
  }

  /**
   * Why a second touch: a response is only as good as its challenge is fresh. Each share
   * this unseal used is sealed again under a new random challenge and salt, so a response
   * recorded now (a tapped pipe, a borrowed key, a logging tool) opens at most the
   * wallet.dat snapshot it was recorded against, not the one the next unseal leaves.
   * Credentials not used keep their challenge (their keys were not here to answer).
   */
  private async rotateChallenges(
    rec: YubiKeySealRecord,
    used: GateCredential[],
    shares: Buffer[],
    passphrases: Array<Buffer | undefined>,
    ctx: SealContext,
  ): Promise<{ record: YubiKeySealRecord; rotated: string[] }> {
    const next = new Map<string, GateCredential>();
    for (let i = 0; i < used.length; i++) {
      const cred = used[i]!;
      const challenge = newChallenge();
      const salt = randomBytes(SALT_BYTES);
      let response: Buffer | undefined;
      try {
        response = await this.driver(cred.driver, toolOf(cred)).respond(
          cred,
          challenge,
          this.respondOptions(this.touchPrompt(cred, ctx, 'reseal')),
        );
        const { iv, ct } = await encryptShare(shares[i]!, response, {
          salt32: salt,
          credentialId: cred.id,
          vaultId: ctx.vaultId,
          passphrase: passphrases[i],
        });
        next.set(cred.id, {
          ...cred,
          challenge: challenge.toString('hex'),
          salt: salt.toString('hex'),
          iv: iv.toString('hex'),
          ct: ct.toString('hex'),
        });
      } catch (e) {
        ctx.audit('gate.challenges_rotated', 'fail', {
          ...credentialDetails(cred),
          error: isHardkmsError(e) ? e.code : 'INTERNAL',
        });
        throw e;
      } finally {
        response?.fill(0);
      }
    }
    return {
      record: { ...rec, credentials: rec.credentials.map((c) => next.get(c.id) ?? c) },
      rotated: [...next.keys()],
    };
  }

  private touchPrompt(
    c: { label: string; serial: number },
    ctx: SealContext,
    what: 'enroll' | 'unseal' | 'reseal',
  ): string {
    const command = this.opts.command ? `\`hardkms ${this.opts.command}\`` : 'hardkms';
    const head = `Touch the YubiKey ${c.label} (serial ${c.serial})…`;
    if (what === 'enroll') return `${head} to enroll it in vault ${ctx.vaultId} for ${command}`;
    if (what === 'unseal') return `${head} to unseal vault ${ctx.vaultId} for ${command}`;
    return `${head} again: its share is re-sealed under a new challenge, so a response recorded now opens nothing later (vault ${ctx.vaultId}, ${command})`;
  }

  /** Mainnet vaults ignore emulated credentials unless the record allows them. */
  private usableCredentials(rec: YubiKeySealRecord, ctx: SealContext): GateCredential[] {
    if (!ctx.mainnet || rec.allowEmulated) return rec.credentials;
    const refused = rec.credentials.filter((c) => c.driver === 'emulator');
    if (refused.length === 0) return rec.credentials;
    ctx.audit('gate.unseal.emulator_refused', 'fail', { credentials: refused.map((c) => c.id) });
    const usable = rec.credentials.filter((c) => c.driver !== 'emulator');
    if (usable.length < rec.threshold) throw emulatorRefused(refused.map((c) => c.label));
    return usable;
  }

  private async presentSerials(creds: GateCredential[], ctx: SealContext): Promise<PresentKeys> {
    const serials = new Map<DriverName, Set<number>>();
    const errors = new Map<DriverName, HardkmsError>();
    for (const name of new Set(creds.map((c) => c.driver))) {
      try {
        const list = await this.driver(name, toolOf(creds.find((c) => c.driver === name)!)).listSerials();
        serials.set(name, new Set(list));
        const enrolled = new Set(creds.filter((c) => c.driver === name).map((c) => c.serial));
        for (const s of list)
          if (!enrolled.has(s)) ctx.audit('gate.unseal.unenrolled', 'fail', { driver: name, serial: s });
      } catch (e) {
        if (!isHardkmsError(e)) throw e;
        serials.set(name, new Set());
        errors.set(name, e);
      }
    }
    return { serials, errors };
  }

  private driver(name: DriverName, tool?: string): YubiKeyDriver {
    const injected = this.opts.drivers?.[name];
    if (injected) return injected;
    const key = `${name}|${tool ?? ''}`;
    let d = this.driverCache.get(key);
    if (!d) {
      d = getDriver(name, {
        ...(this.opts.emulatorDir === undefined ? {} : { emulatorDir: this.opts.emulatorDir }),
        tool,
      });
      this.driverCache.set(key, d);
    }
    return d;
  }

  /** The driver's own "touch" line is replaced by ours, which names the vault and the command. */
  private respondOptions(prompt: string) {
    const onWait = this.opts.onWait;
    return {
      timeoutMs: this.opts.timeoutMs ?? DEFAULT_TOUCH_TIMEOUT_MS,
      ...(onWait ? { onWait: () => onWait(prompt) } : {}),
    };
  }

  private async passphrase(
    t: { id: string; label: string; serial: number },
    purpose: PassphraseRequest['purpose'],
  ): Promise<Buffer> {
    if (!this.opts.getPassphrase) {
      throw new HardkmsError(
        'GATE_PASSPHRASE_REQUIRED',
        `The YubiKey ${t.label} is enrolled with a passphrase, but no way to ask for it was given.`,
        {
          hint: 'Run the command in a terminal so the passphrase can be asked.',
        },
      );
    }
    return this.opts.getPassphrase({ credentialId: t.id, label: t.label, serial: t.serial, purpose });
  }

  private targetFromSpec(s: GateCredentialSpec, defaultDriver: DriverName): EnrollTarget {
    const slot = s.slot ?? 2;
    assertSlot(slot);
    const driver = s.driver ?? defaultDriver;
    if (!isDriverName(driver)) throw new InputError(`Unknown YubiKey driver "${String(driver)}".`);
    if (!Number.isSafeInteger(s.serial) || s.serial < 0) {
      throw new InputError(
        `"${String(s.serial)}" is not a YubiKey serial number.`,
        'Serials are the decimal numbers `ykman list --serials` prints.',
      );
    }
    const label = s.label.trim();
    if (label === '' || label.length > 64) {
      throw new InputError('A YubiKey label must be 1 to 64 characters.', 'Use the operator name, e.g. "alice".');
    }
    // The tool is fixed now, at the ceremony, and recorded: unseal never looks on PATH.
    const tool = driver === 'emulator' || this.opts.drivers?.[driver] ? undefined : (s.tool ?? resolveTool(driver));
    return {
      id: `yk-${randomBytes(4).toString('hex')}`,
      label,
      serial: s.serial,
      slot,
      driver,
      passphrase: s.passphrase ?? false,
      tool,
    };
  }

  private async audited<T>(
    event: AuditEventName,
    ctx: SealContext,
    details: Record<string, unknown>,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      const out = await fn();
      ctx.audit(event, 'ok', details);
      return out;
    } catch (e) {
      ctx.audit(event, 'fail', { ...details, error: isHardkmsError(e) ? e.code : 'INTERNAL' });
      throw e;
    }
  }
}

interface PresentKeys {
  serials: Map<DriverName, Set<number>>;
  errors: Map<DriverName, HardkmsError>;
}

export function wipeRecovery(shares: RecoveryShare[]): void {
  for (const s of shares) s.share.fill(0);
}

/** The enrolled tool path; credentials from before paths were recorded run the distribution's, never PATH's. */
function toolOf(c: GateCredential): string | undefined {
  if (c.driver === 'emulator') return undefined;
  return c.tool ?? legacyToolPath(c.driver);
}

function flagsOf(rec: YubiKeySealRecord): RecordFlags {
  return { driver: rec.driver, allowEmulated: rec.allowEmulated, allowSingleOperator: rec.allowSingleOperator };
}

function credentialDetails(c: GateCredential): Record<string, unknown> {
  return { credential: c.id, label: c.label, serial: c.serial, driver: c.driver };
}

function checkValue(encoded: Buffer, vaultId: string): Buffer {
  return createHmac('sha256', encoded).update(`hardkms gate check v1|${vaultId}`).digest();
}

function checkMatches(rec: YubiKeySealRecord, encoded: Buffer, vaultId: string): boolean {
  return timingSafeEqual(checkValue(encoded, vaultId), Buffer.from(rec.check, 'hex'));
}

function assertSecretMatches(rec: YubiKeySealRecord, secret: VaultSecret, vaultId: string): void {
  const encoded = encodeVaultSecret(secret);
  try {
    if (!checkMatches(rec, encoded, vaultId)) {
      throw new HardkmsError(
        'GATE_SECRET_MISMATCH',
        "The secret given is not this vault's secret; nothing was changed.",
        {
          hint: 'Unseal the vault with its YubiKeys first and pass the secret that unseal returned.',
        },
      );
    }
  } finally {
    encoded.fill(0);
  }
}

function emulatorRefused(labels: string[]): HardkmsError {
  return new HardkmsError(
    'GATE_EMULATOR_REFUSED',
    `The YubiKey emulator is refused for a vault with mainnet wallets (emulated: ${labels.join(', ')}).`,
    {
      hint: 'Enroll real YubiKeys (--driver ykman or ykchalresp), or initialise with --allow-emulated-yubikey (recorded and audited) for a demo vault.',
    },
  );
}

function describe(c: GateCredential): string {
  return `${c.label} (serial ${c.serial})`;
}

function quorumNotMet(
  rec: YubiKeySealRecord,
  usable: GateCredential[],
  present: PresentKeys,
  failures: Array<{ cred: GateCredential; error: HardkmsError }>,
  ok: number,
): HardkmsError {
  const isPresent = (c: GateCredential) => present.serials.get(c.driver)?.has(c.serial) ?? false;
  const presentCreds = usable.filter(isPresent);
  const absent = usable.filter((c) => !isPresent(c));
  const enrolledSerials = new Set(rec.credentials.map((c) => c.serial));
  const unenrolled = [...present.serials.values()].flatMap((s) => [...s]).filter((s) => !enrolledSerials.has(s));
  const parts = [
    `Unsealing needs ${rec.threshold} of the ${rec.credentials.length} enrolled YubiKeys; ${ok} gave a valid response.`,
    `Present: ${presentCreds.length > 0 ? presentCreds.map(describe).join(', ') : 'none of the enrolled keys'}.`,
  ];
  if (absent.length > 0) parts.push(`Not present: ${absent.map(describe).join(', ')}.`);
  if (unenrolled.length > 0) parts.push(`Present but not enrolled (ignored): serial ${unenrolled.join(', serial ')}.`);
  for (const f of failures) parts.push(`${describe(f.cred)}: ${f.error.message}`);
  for (const [name, e] of present.errors) parts.push(`Driver ${name}: ${e.message}`);
  return new HardkmsError('GATE_QUORUM_NOT_MET', parts.join(' '), {
    hint: `Connect ${rec.threshold} enrolled YubiKeys (one per operator) and touch each when asked; \`hardkms status\` lists them. If keys are lost, rebuild the gate from ${rec.threshold} recovery sheets with \`hardkms recover\`.`,
  });
}
