import { createPublicKey, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import pkcs11js from 'pkcs11js';
import { HardkmsError } from '../errors.js';
import { explainPkcs11Error, pkcs11Code } from './pkcs11-errors.js';
import { decodeEcPoint, normaliseLowS } from './ec.js';
import { loadModule, resolveModulePath } from './module.js';
import { generateKeyWithTemplate, loginWithBuffer, readUnwrapTemplate, setPinWithBuffers } from './native.js';
import { softHsmBackupFor, type SoftHsmBackup } from './softhsm-backup.js';
import { loadProfile, type TokenProfile } from './profiles.js';
import {
  auditKeyPairTemplates,
  dataKeyTemplate,
  ed25519SessionKeyTemplate,
  generatedEd25519Templates,
  generatedSecp256k1Templates,
  importedSecp256k1Template,
  legacyReadableSecp256k1Template,
  otpAesKeyTemplate,
  UNWRAP_TEMPLATE,
  unwrappedSecp256k1Template,
  wrapKeyTemplate,
} from './templates.js';

/** Mechanisms by name, including the ones pkcs11js has no constant for. */
const MECHANISMS: Record<string, number> = {
  CKM_AES_KEY_WRAP_PAD: 0x210a,
  CKM_AES_KEY_WRAP_KWP: 0x210b,
  CKM_AES_GCM: 0x1087,
  CKM_AES_ECB: 0x1081,
  CKM_ECDSA: 0x1041,
  CKM_EDDSA: 0x1057,
  CKM_EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  CKM_YUBICO_AES_CCM_WRAP: 0xd9554303,
};

const ED25519_SEED_BYTES = 32;

function mechanism(name: string, setting: string, profile: string): number {
  const value = MECHANISMS[name];
  if (value === undefined) {
    throw new HardkmsError('HSM_MECHANISM_UNSUPPORTED', `Unknown mechanism '${name}' in token profile '${profile}'.`, {
      hint: `Set '${setting}' to one of: ${Object.keys(MECHANISMS).join(', ')}.`,
    });
  }
  return value;
}

/** CKA_IDs of the three token keys of one vault; stored in wallet.dat as the token binding. */
export interface VaultKeyIds {
  wrapKeyId: string;
  dataKeyId: string;
  auditKeyId: string;
}

export interface WrappedKey {
  /** The private key wrapped by the token's wrap key (PKCS#8 inside RFC 5649 on SoftHSM2). */
  wrapped: Buffer;
  /** Name of the wrap mechanism that made `wrapped`. */
  mechanism: string;
  /** 33-byte compressed secp256k1 public key. */
  publicKey: Buffer;
}

interface TokenInfo {
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
  modulePath: string;
  profile: string;
}

export interface OpenTokenOptions {
  /** HARDKMS_PKCS11_MODULE, or undefined to search the profile's paths. */
  modulePath?: string | undefined;
  /** HARDKMS_TOKEN_LABEL; default 'hardkms'. */
  label?: string | undefined;
  profile?: string | undefined;
}

export const DEFAULT_TOKEN_LABEL = 'hardkms';
const ED25519_SEED_AAD = Buffer.from('hardkms ed25519 seed v1', 'utf8');

/** Counts session keys whose C_DestroyObject failed: a key left alive is an incident. */
interface DestroyFailure {
  operation: string;
  code: number | undefined;
  message: string;
}
const GCM_IV_BYTES = 12;
const GCM_TAG_BITS = 128;

let backupWarned = false;

function filesLocked<T>(backup: SoftHsmBackup | undefined, fn: () => T): T {
  return backup ? backup.exclusive(fn) : fn();
}

function trimField(b: string | Buffer): string {
  return (typeof b === 'string' ? b : b.toString('utf8')).replace(/\0/g, '').trim();
}

/**
 * One PKCS#11 token, one R/W session. Everything secret stays inside: the wrap, data and
 * audit keys are generated non-extractable; secp256k1 keys come back only wrapped; a wrapped
 * key is unwrapped as a non-extractable session object only for the signature and destroyed
 * in `finally`.
 */
export class Token {
  readonly profile: TokenProfile;
  readonly info: TokenInfo;
  private readonly lib: pkcs11js.PKCS11;
  private readonly session: Buffer;
  private keys: { wrap: Buffer; data: Buffer; audit: Buffer } | undefined;
  /** Wrapped blob (base64) → its unwrapped session key, while a daemon cycle caches keys. */
  private keyCache: Map<string, Buffer> | undefined;
  private loggedIn = false;
  /** SoftHSM2 only: the verified copy of the token's files (src/hsm/softhsm-backup.ts). */
  private backup: SoftHsmBackup | undefined;

  private constructor(lib: pkcs11js.PKCS11, session: Buffer, profile: TokenProfile, info: TokenInfo) {
    this.lib = lib;
    this.session = session;
    this.profile = profile;
    this.info = info;
  }

  static open(options: OpenTokenOptions = {}): Token {
    const profile = loadProfile(options.profile);
    const modulePath = resolveModulePath(options.modulePath, profile);
    const label = options.label ?? DEFAULT_TOKEN_LABEL;
    // Before the library reads the files: a truncated token.object must be reported as
    // damaged (and repaired), not as "no such token" (which suggests creating a new one).
    const backup = softHsmBackupFor(profile.name, modulePath, label);
    // C_Initialize reads every token's files: not while another process rewrites one.
    return filesLocked(backup, () => Token.openIn(profile, modulePath, label, backup));
  }

  private static openIn(
    profile: TokenProfile,
    modulePath: string,
    label: string,
    backup: SoftHsmBackup | undefined,
  ): Token {
    backup?.assertIntact();
    const lib = loadModule(modulePath);
    const slots = lib.C_GetSlotList(true);
    const present: string[] = [];
    for (const slot of slots) {
      const t = lib.C_GetTokenInfo(slot);
      const tokenLabel = trimField(t.label);
      present.push(tokenLabel);
      if (tokenLabel !== label) continue;
      let session: Buffer;
      try {
        session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      } catch (e) {
        throw explainPkcs11Error(e, { operation: 'opening a session', tokenLabel: label });
      }
      const token = new Token(lib, session, profile, {
        label: tokenLabel,
        serial: trimField(t.serialNumber),
        manufacturer: trimField(t.manufacturerID),
        model: trimField(t.model),
        modulePath,
        profile: profile.name,
      });
      token.backup = backup;
      return token;
    }
    const labels = present.filter((l) => l.length > 0);
    throw new HardkmsError(
      'HSM_TOKEN_NOT_FOUND',
      `No token labelled '${label}' in ${modulePath}. Tokens present: ${labels.length ? labels.map((l) => `'${l}'`).join(', ') : 'none'}.`,
      {
        hint: 'Set HARDKMS_TOKEN_LABEL to one of the labels present, or create the token (SoftHSM2: hsm/init-softhsm2-token.sh DIR LABEL, with SOFTHSM2_CONF pointing at DIR/softhsm2.conf).',
      },
    );
  }

  private fail(e: unknown, operation: string, mechanismSetting?: string, authenticated = false): HardkmsError {
    return explainPkcs11Error(e, {
      operation,
      authenticated,
      tokenLabel: this.info.label,
      profile: this.profile.name,
      ...(mechanismSetting ? { mechanismSetting } : {}),
    });
  }

  /**
   * The PIN goes from the Buffer straight into the module (native.ts): pkcs11js would want a
   * JS string, which cannot be wiped. The caller wipes the Buffer; the session stays logged in.
   */
  login(pin: Buffer): void {
    // SoftHSM2 rewrites token.object on every login: never let it rewrite a damaged one,
    // and copy a whole one first when the copy is older (a PIN change cut short by a kill).
    this.tokenFiles(() => {
      this.backup?.assertIntact();
      this.keepBackup();
      try {
        loginWithBuffer(this.info.modulePath, this.session, pkcs11js.CKU_USER, pin);
        this.loggedIn = true;
      } catch (e) {
        if (pkcs11Code(e) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
          this.loggedIn = true;
          return;
        }
        throw this.fail(e, 'logging in');
      }
    });
  }

  /** Runs fn under the host-wide lock of a SoftHSM2 token's files (softhsm-lock.ts); other tokens need none. */
  private tokenFiles<T>(fn: () => T): T {
    return filesLocked(this.backup, fn);
  }

  /** Changes the user PIN inside the token (rotation). */
  setPin(oldPin: Buffer, newPin: Buffer): void {
    this.tokenFiles(() => {
      try {
        setPinWithBuffers(this.info.modulePath, this.session, oldPin, newPin);
      } catch (e) {
        throw this.fail(e, 'changing the user PIN');
      }
      this.keepBackup();
    });
  }

  /** Refreshes the SoftHSM2 copy when the token's PIN or objects changed; a failure only warns. */
  private keepBackup(): void {
    if (!this.backup) return;
    try {
      this.backup.ensureCurrent();
    } catch (e) {
      if (!backupWarned)
        process.stderr.write(
          `WARNING: could not refresh the token backup in ${this.backup.root}: ${(e as Error).message}\n`,
        );
      backupWarned = true;
    }
  }

  logout(): void {
    this.endKeyCache();
    if (!this.loggedIn) return;
    try {
      this.lib.C_Logout(this.session);
    } catch {
      // Already logged out (session closed, token removed): nothing left to protect.
    }
    this.loggedIn = false;
    this.keys = undefined;
  }

  close(): void {
    this.logout();
    try {
      this.lib.C_CloseSession(this.session);
    } catch {
      // The session may already be gone with the token.
    }
  }

  random(bytes: number): Buffer {
    return this.lib.C_GenerateRandom(this.session, Buffer.alloc(bytes));
  }

  // ---------------------------------------------------------------- vault keys

  /** Creates the wrap, data and audit keys of a new vault inside the token. */
  generateVaultKeys(vaultId: string): VaultKeyIds {
    const tag = vaultId.slice(0, 8);
    const ids = {
      wrapKeyId: randomBytes(16).toString('hex'),
      dataKeyId: randomBytes(16).toString('hex'),
      auditKeyId: randomBytes(16).toString('hex'),
    };
    const audit = auditKeyPairTemplates(tag, ids.auditKeyId);
    this.tokenFiles(() => {
      try {
        this.createWrapKey(tag, ids.wrapKeyId);
        this.lib.C_GenerateKey(
          this.session,
          { mechanism: pkcs11js.CKM_AES_KEY_GEN },
          dataKeyTemplate(tag, ids.dataKeyId),
        );
        this.lib.C_GenerateKeyPair(
          this.session,
          { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
          audit.publicKey,
          audit.privateKey,
        );
      } catch (e) {
        throw this.fail(e, 'generating the vault keys');
      }
      this.keepBackup();
    });
    return ids;
  }

  /**
   * The wrap key carries CKA_UNWRAP_TEMPLATE (set through native.ts: pkcs11js cannot pass a
   * nested template). Also used when an older vault's wrap key is replaced at unseal.
   */
  private createWrapKey(tag: string, idHex: string): void {
    generateKeyWithTemplate(this.info.modulePath, this.session, pkcs11js.CKM_AES_KEY_GEN, wrapKeyTemplate(tag, idHex));
  }

  /** Makes a new wrap key (with the unwrap template) for a vault whose wrap key predates it. */
  generateWrapKey(vaultId: string): string {
    const id = randomBytes(16).toString('hex');
    this.tokenFiles(() => {
      try {
        this.createWrapKey(vaultId.slice(0, 8), id);
      } catch (e) {
        throw this.fail(e, 'generating a wrap key');
      }
      this.keepBackup();
    });
    return id;
  }

  /** Whether the bound wrap key enforces UNWRAP_TEMPLATE (vaults made before it do not). */
  wrapKeyEnforcesTemplate(): boolean {
    const template = readUnwrapTemplate(this.info.modulePath, this.session, this.vaultKeys().wrap);
    if (!template) return false;
    return UNWRAP_TEMPLATE.every((want) => template.some((a) => a.type === want.type && a.value === want.value));
  }

  /** Destroys a token key of this vault by CKA_ID (the retired wrap key after a migration). */
  destroySecretKey(idHex: string): void {
    const handle = this.findOne(pkcs11js.CKO_SECRET_KEY, idHex, 'retired key');
    this.tokenFiles(() => {
      try {
        this.lib.C_DestroyObject(this.session, handle);
      } catch (e) {
        throw this.fail(e, 'destroying a retired key');
      }
      this.keepBackup();
    });
  }

  /**
   * The vaults whose keys this token holds, by tag (the first 8 characters of the vault id,
   * in the key labels); audit public keys are public objects, so no login is needed.
   */
  vaultTags(): string[] {
    const tags = new Set<string>();
    try {
      this.lib.C_FindObjectsInit(this.session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }]);
      try {
        for (;;) {
          const handles = this.lib.C_FindObjects(this.session, 64);
          if (handles.length === 0) break;
          for (const h of handles) {
            const [attr] = this.lib.C_GetAttributeValue(this.session, h, [{ type: pkcs11js.CKA_LABEL }]);
            const label = attr?.value ? Buffer.from(attr.value as Buffer).toString('utf8') : '';
            if (label.startsWith('hardkms-audit-')) tags.add(label.slice('hardkms-audit-'.length));
          }
        }
      } finally {
        this.lib.C_FindObjectsFinal(this.session);
      }
    } catch (e) {
      throw this.fail(e, 'listing the vault keys');
    }
    return [...tags].sort();
  }

  private findOne(cls: number, idHex: string, what: string): Buffer {
    let found: Buffer[];
    try {
      this.lib.C_FindObjectsInit(this.session, [
        { type: pkcs11js.CKA_CLASS, value: cls },
        { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
      ]);
      try {
        found = this.lib.C_FindObjects(this.session, 2);
      } finally {
        this.lib.C_FindObjectsFinal(this.session);
      }
    } catch (e) {
      throw this.fail(e, `looking up the ${what}`);
    }
    const handle = found[0];
    if (handle === undefined) {
      throw new HardkmsError('HSM_KEY_MISSING', `The ${what} (CKA_ID ${idHex}) is not on token '${this.info.label}'.`, {
        hint: 'This wallet.dat was created with another token, or the key was deleted. Use the token the vault was created with (restore it from its backup).',
      });
    }
    return handle;
  }

  /** Finds the vault's keys; needs a logged-in session because the keys are private objects. */
  bindVaultKeys(ids: VaultKeyIds): void {
    this.keys = {
      wrap: this.findOne(pkcs11js.CKO_SECRET_KEY, ids.wrapKeyId, 'wrap key'),
      data: this.findOne(pkcs11js.CKO_SECRET_KEY, ids.dataKeyId, 'data key'),
      audit: this.findOne(pkcs11js.CKO_PRIVATE_KEY, ids.auditKeyId, 'audit key'),
    };
  }

  private vaultKeys(): { wrap: Buffer; data: Buffer; audit: Buffer } {
    if (!this.keys) {
      throw new HardkmsError('VAULT_SEALED', 'The vault is sealed: the token keys are not available.', {
        hint: 'Unseal the vault first.',
      });
    }
    return this.keys;
  }

  /** The audit public key as PEM, for offline verification. It needs no login. */
  auditPublicKeyPem(auditKeyId: string): string {
    const handle = this.findOne(pkcs11js.CKO_PUBLIC_KEY, auditKeyId, 'audit public key');
    const [point] = this.lib.C_GetAttributeValue(this.session, handle, [{ type: pkcs11js.CKA_EC_POINT }]);
    const raw = decodeEcPoint(point!.value as Buffer);
    // SubjectPublicKeyInfo for id-ecPublicKey / prime256v1 followed by the point.
    const spkiPrefix = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
    return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
  }

  // ---------------------------------------------------------------- secp256k1 keys

  private wrapMechanism(): { mechanism: number } {
    return { mechanism: mechanism(this.profile.wrapMechanism, 'wrapMechanism', this.profile.name) };
  }

  /** Failed C_DestroyObject calls on session keys since open; a metric (signer/service.ts). */
  destroyFailures = 0;
  /** Told about each failed destroy (the daemon logs it); never throws into the caller. */
  onDestroyFailure: ((failure: DestroyFailure) => void) | undefined;

  private destroy(handle: Buffer | undefined, operation = 'destroying a session key'): void {
    if (handle === undefined) return;
    try {
      this.lib.C_DestroyObject(this.session, handle);
    } catch (e) {
      // Never mask the original error; but a key left alive in the session is an incident
      // (it lives until the session closes), so count it and report it.
      this.destroyFailures++;
      try {
        this.onDestroyFailure?.({ operation, code: pkcs11Code(e), message: (e as Error).message });
      } catch {
        // a failing reporter must not turn a signature into an error
      }
    }
  }

  private readPublicKey(publicHandle: Buffer): Buffer {
    const [point] = this.lib.C_GetAttributeValue(this.session, publicHandle, [{ type: pkcs11js.CKA_EC_POINT }]);
    return compress(decodeEcPoint(point!.value as Buffer));
  }

  private wrap(handle: Buffer, what: string): Buffer {
    const keys = this.vaultKeys();
    try {
      return this.lib.C_WrapKey(this.session, this.wrapMechanism(), keys.wrap, handle, Buffer.alloc(4096));
    } catch (e) {
      throw this.fail(e, `wrapping ${what}`, 'wrapMechanism');
    }
  }

  /**
   * Imports a secp256k1 private key the user supplied and returns it wrapped. The key
   * lives in the token as a session object only for the C_WrapKey call.
   */
  importSecp256k1(privateKey: Uint8Array, publicKey: Uint8Array): WrappedKey {
    let handle: Buffer | undefined;
    const value = Buffer.from(privateKey);
    try {
      try {
        handle = this.lib.C_CreateObject(this.session, importedSecp256k1Template(value));
      } catch (e) {
        throw this.fail(e, 'importing a secp256k1 key');
      }
      return {
        wrapped: this.wrap(handle, 'an imported key'),
        mechanism: this.profile.wrapMechanism,
        publicKey: Buffer.from(publicKey),
      };
    } finally {
      value.fill(0);
      this.destroy(handle);
    }
  }

  /** Generates a secp256k1 key pair inside the token; only the wrapped private key leaves it. */
  generateSecp256k1(): WrappedKey {
    const generated = generatedSecp256k1Templates();
    let pair: pkcs11js.KeyPair | undefined;
    try {
      try {
        pair = this.lib.C_GenerateKeyPair(
          this.session,
          { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
          generated.publicKey,
          generated.privateKey,
        );
      } catch (e) {
        throw this.fail(e, 'generating a secp256k1 key pair');
      }
      const publicKey = this.readPublicKey(pair.publicKey);
      return {
        wrapped: this.wrap(pair.privateKey, 'a generated key'),
        mechanism: this.profile.wrapMechanism,
        publicKey,
      };
    } finally {
      this.destroy(pair?.privateKey);
      this.destroy(pair?.publicKey);
    }
  }

  /** Unwraps a key into a non-extractable session object; signWithWrapped destroys it after the signature. */
  private unwrapSecp256k1(wrapped: WrappedKey): Buffer {
    const keys = this.vaultKeys();
    if (wrapped.mechanism !== this.profile.wrapMechanism && MECHANISMS[wrapped.mechanism] === undefined) {
      throw new HardkmsError(
        'HSM_MECHANISM_UNSUPPORTED',
        `The key was wrapped with ${wrapped.mechanism}, which this build does not know.`,
      );
    }
    try {
      return this.lib.C_UnwrapKey(
        this.session,
        { mechanism: mechanism(wrapped.mechanism, 'wrapMechanism', this.profile.name) },
        keys.wrap,
        wrapped.wrapped,
        unwrappedSecp256k1Template(),
      );
    } catch (e) {
      throw this.fail(e, 'unwrapping a wallet key', 'wrapMechanism', true);
    }
  }

  /**
   * Migration only (vault/inner.ts): reads a key wrapped by a wrap key made before
   * UNWRAP_TEMPLATE, so that its export copy can be made under the inner layer once. A wrap
   * key with the template refuses this (CKR_TEMPLATE_INCONSISTENT); nothing else calls it.
   */
  revealLegacyWrapped(wrapped: { wrapped: Buffer; mechanism: string }): Buffer {
    const keys = this.vaultKeys();
    let handle: Buffer | undefined;
    try {
      handle = this.lib.C_UnwrapKey(
        this.session,
        { mechanism: mechanism(wrapped.mechanism, 'wrapMechanism', this.profile.name) },
        keys.wrap,
        wrapped.wrapped,
        legacyReadableSecp256k1Template(),
      );
      const value = this.readValue(handle);
      // CKA_VALUE of an EC key is the big-endian scalar; restore leading zeros.
      const out = Buffer.alloc(32);
      value.copy(out, 32 - value.length);
      value.fill(0);
      return out;
    } catch (e) {
      throw this.fail(e, 'reading a key wrapped before the unwrap template', 'wrapMechanism', true);
    } finally {
      this.destroy(handle, 'destroying a migrated key');
    }
  }

  /** Reads CKA_VALUE of an object; the token refuses for every key hardkms makes but a just-generated ed25519 seed. */
  private readValue(handle: Buffer): Buffer {
    const [attr] = this.lib.C_GetAttributeValue(this.session, handle, [{ type: pkcs11js.CKA_VALUE }]);
    return attr!.value as Buffer;
  }

  /**
   * Signs a 32-byte digest with a wrapped key: unwrap → CKM_ECDSA → destroy. Returns r and s
   * normalised to low-S, without the recovery id: the signing pipeline's signDigestChecked
   * (chains/digest-signer.ts) finds it by recovery against the wallet's public key, which is
   * also its check that the token signed with the wallet's key. One recovery search per
   * signature, not one here and another there.
   */
  signWithWrapped(wrapped: WrappedKey, digest: Uint8Array): { r: Buffer; s: Buffer } {
    if (digest.length !== 32) {
      throw new HardkmsError('SIGN_BAD_DIGEST', `Expected a 32-byte digest, got ${digest.length} bytes.`);
    }
    const cache = this.keyCache;
    const cacheKey = cache === undefined ? undefined : wrapped.wrapped.toString('base64');
    let handle: Buffer | undefined = cacheKey === undefined ? undefined : cache?.get(cacheKey);
    try {
      if (handle === undefined) {
        handle = this.unwrapSecp256k1(wrapped);
        if (cacheKey !== undefined) cache?.set(cacheKey, handle);
      }
      return normaliseLowS('secp256k1', this.signRaw(handle, digest));
    } finally {
      // A cached key is destroyed by endKeyCache(), at the end of the cycle.
      if (cache === undefined) this.destroy(handle);
    }
  }

  /**
   * The daemon's opt-in per-cycle key cache (--key-cache): from here to endKeyCache(), a key
   * unwrapped for a signature stays in the token as its session object (sensitive,
   * non-extractable: the plain key never leaves the token, as with one unwrap per
   * signature) and signs the cycle's other transactions of that wallet. On SoftHSM2 2.6.1 an
   * unwrap costs about three signatures: most of it is OpenSSL 3's PKCS#8 decoder (set up per
   * call, and the public key recomputed by both the EC and the SM2 decoder), not the wrap
   * key's storage: a session wrap key unwraps no faster (scripts/bench/token, row (s)).
   */
  beginKeyCache(): void {
    this.keyCache ??= new Map();
  }

  /** Destroys every key the cache holds and ends it; returns how many there were. logout() (and so close()) calls it too. */
  endKeyCache(): number {
    const cache = this.keyCache;
    this.keyCache = undefined;
    if (cache === undefined) return 0;
    for (const handle of cache.values()) this.destroy(handle, 'destroying a cached session key');
    return cache.size;
  }

  /** CKM_ECDSA with a key handle: an unwrapped wallet key, the audit key, or a benchmark's resident key. */
  private signRaw(handle: Buffer, digest: Uint8Array): Buffer {
    try {
      this.lib.C_SignInit(
        this.session,
        { mechanism: mechanism(this.profile.signMechanism, 'signMechanism', this.profile.name) },
        handle,
      );
      return this.lib.C_Sign(this.session, Buffer.from(digest), Buffer.alloc(132));
    } catch (e) {
      throw this.fail(e, 'signing a digest', 'signMechanism');
    }
  }

  // ---------------------------------------------------------------- ed25519 keys
  //
  // SoftHSM2 2.6.1 signs with CKM_EDDSA but can neither wrap an EdDSA private key
  // (C_WrapKey: CKR_KEY_NOT_WRAPPABLE) nor unwrap one (C_UnwrapKey: CKR_FUNCTION_FAILED),
  // whatever the inner encoding; both tested. So an ed25519 key is stored as its 32-byte
  // seed in a generic-secret object wrapped by the vault's wrap key (the same wrap path,
  // mechanism and blob as secp256k1 keys), and a signature is: unwrap the seed → copy it
  // into a sensitive, non-extractable CKK_EC_EDWARDS session object → wipe the host copy →
  // CKM_EDDSA in the token → destroy. The seed is in host memory only between C_UnwrapKey
  // and C_CreateObject (microseconds), never while a signature is computed; a token that
  // unwraps EdDSA keys (profile supports.unwrapEdPrivateKey) would remove that window.

  private requireEddsa(): number {
    if (!this.profile.supports.eddsa) {
      throw new HardkmsError(
        'HSM_MECHANISM_UNSUPPORTED',
        `Token profile '${this.profile.name}' has no EdDSA (CKM_EDDSA); ed25519 keys cannot be signed in it.`,
        {
          hint: 'Use a token with CKM_EDDSA (SoftHSM2 2.6+, YubiHSM 2, Luna 7) for XRP, XLM, SOL and ALGO wallets.',
        },
      );
    }
    return mechanism(this.profile.eddsaMechanism ?? 'CKM_EDDSA', 'eddsaMechanism', this.profile.name);
  }

  /**
   * Seals a 32-byte ed25519 seed (user-supplied, or from the token) with the data key
   * (AES-GCM), not the wrap key: the wrap key's CKA_UNWRAP_TEMPLATE (sensitive,
   * non-extractable) forbids unwrapping a seed into readable form, and SoftHSM2 cannot
   * unwrap it as an EdDSA key. Stored entries add the inner layer on top (vault/inner.ts),
   * so the PIN alone decrypts no seed.
   */
  private wrapEd25519Seed(seed: Uint8Array, publicKey: Uint8Array): WrappedKey {
    return {
      wrapped: this.encrypt(seed, ED25519_SEED_AAD),
      mechanism: this.profile.dataMechanism,
      publicKey: Buffer.from(publicKey),
    };
  }

  /** Imports an ed25519 private key (its 32-byte RFC 8032 seed) and returns it wrapped. */
  importEd25519(seed: Uint8Array): WrappedKey {
    if (seed.length !== ED25519_SEED_BYTES)
      throw new HardkmsError('KEY_INVALID', `An ed25519 private key is a 32-byte seed, got ${seed.length} bytes.`);
    this.requireEddsa();
    return this.wrapEd25519Seed(seed, ed25519.getPublicKey(seed));
  }

  /**
   * Generates an ed25519 key pair in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN) and returns it
   * wrapped with its 32-byte public key. The token cannot wrap the EdDSA object it made, so
   * its seed is read once (the object is generated extractable for that read only), wrapped
   * as a generic secret, and wiped on the host.
   */
  generateEd25519(): WrappedKey {
    this.requireEddsa();
    const generated = generatedEd25519Templates();
    let pair: pkcs11js.KeyPair | undefined;
    let seed: Buffer | undefined;
    try {
      try {
        pair = this.lib.C_GenerateKeyPair(
          this.session,
          { mechanism: MECHANISMS.CKM_EC_EDWARDS_KEY_PAIR_GEN! },
          generated.publicKey,
          generated.privateKey,
        );
      } catch (e) {
        throw this.fail(e, 'generating an ed25519 key pair');
      }
      seed = this.readValue(pair.privateKey);
      const publicKey = decodeEdPoint(
        this.lib.C_GetAttributeValue(this.session, pair.publicKey, [{ type: pkcs11js.CKA_EC_POINT }])[0]!
          .value as Buffer,
      );
      if (seed.length !== ED25519_SEED_BYTES || !bytesEq(ed25519.getPublicKey(seed), publicKey)) {
        throw new HardkmsError(
          'HSM_FAILED',
          'The token generated an ed25519 key whose seed does not give its public key.',
        );
      }
      return this.wrapEd25519Seed(seed, publicKey);
    } finally {
      seed?.fill(0);
      this.destroy(pair?.privateKey);
      this.destroy(pair?.publicKey);
    }
  }

  /** Opens a sealed ed25519 seed into host memory; every caller wipes it at once. */
  private unwrapEd25519Seed(wrapped: WrappedKey): Buffer {
    const seed = this.decrypt(wrapped.wrapped, ED25519_SEED_AAD);
    if (seed.length !== ED25519_SEED_BYTES) {
      seed.fill(0);
      throw new HardkmsError('HSM_FAILED', 'A sealed ed25519 key did not open to a 32-byte seed.', {
        hint: 'The entry is not an ed25519 key.',
      });
    }
    return seed;
  }

  /** A sensitive, non-extractable CKK_EC_EDWARDS session object holding `seed`; wipes `seed`. */
  private ed25519SessionKey(seed: Buffer): Buffer {
    try {
      return this.lib.C_CreateObject(this.session, ed25519SessionKeyTemplate(seed));
    } catch (e) {
      throw this.fail(e, 'loading an ed25519 key');
    } finally {
      seed.fill(0);
    }
  }

  /**
   * Ed25519 (RFC 8032, pure: the whole message, not a digest) with a wrapped key:
   * unwrap → CKM_EDDSA in the token → destroy. Not verified here: the signing pipeline's
   * chain code checks it against the wallet's key (signEd25519Checked, or ADA's own check),
   * once per signature.
   */
  signEd25519WithWrapped(wrapped: WrappedKey, message: Uint8Array): Buffer {
    const mech = this.requireEddsa();
    let handle: Buffer | undefined;
    try {
      handle = this.ed25519SessionKey(this.unwrapEd25519Seed(wrapped));
      return this.signEd25519Raw(handle, message, mech);
    } finally {
      this.destroy(handle);
    }
  }

  /** CKM_EDDSA with a key handle (an ed25519 session key, or a benchmark's resident key). */
  private signEd25519Raw(handle: Buffer, message: Uint8Array, mech = this.requireEddsa()): Buffer {
    // pkcs11js refuses an empty buffer after C_SignInit, leaving the operation active in the
    // session; no chain signs an empty message, so refuse it before the token.
    if (message.length === 0) throw new HardkmsError('SIGN_BAD_MESSAGE', 'Refusing to sign an empty message.');
    try {
      this.lib.C_SignInit(this.session, { mechanism: mech }, handle);
      const sig = Buffer.from(this.lib.C_Sign(this.session, Buffer.from(message), Buffer.alloc(64)));
      if (sig.length !== 64)
        throw new HardkmsError('HSM_FAILED', `The token returned a ${sig.length}-byte ed25519 signature; expected 64.`);
      return sig;
    } catch (e) {
      throw e instanceof HardkmsError ? e : this.fail(e, 'signing with an ed25519 key', 'eddsaMechanism');
    }
  }

  /** The seed of a wrapped ed25519 key, for getmanagedwallet/export (audited by the caller). The caller wipes it. */
  revealEd25519(wrapped: WrappedKey): Buffer {
    return this.unwrapEd25519Seed(wrapped);
  }

  // ---------------------------------------------------------------- data key

  /**
   * Encrypts a seed or mnemonic with the data key (AES-256-GCM in the token). Output is
   * iv ‖ ciphertext ‖ tag; `aad` binds the ciphertext to its entry (id, chain, kind).
   */
  encrypt(plain: Uint8Array, aad: Buffer): Buffer {
    const keys = this.vaultKeys();
    const iv = this.random(GCM_IV_BYTES);
    const input = Buffer.from(plain);
    try {
      this.lib.C_EncryptInit(this.session, this.gcm(iv, aad), keys.data);
      const out = this.lib.C_Encrypt(this.session, input, Buffer.alloc(input.length + 32));
      return Buffer.concat([iv, out]);
    } catch (e) {
      throw this.fail(e, 'encrypting with the data key', 'dataMechanism');
    } finally {
      input.fill(0);
    }
  }

  /** Inverse of encrypt. The caller owns (and must wipe) the returned buffer. */
  decrypt(blob: Buffer, aad: Buffer): Buffer {
    const keys = this.vaultKeys();
    if (blob.length < GCM_IV_BYTES + GCM_TAG_BITS / 8) {
      throw new HardkmsError('HSM_CIPHERTEXT_REJECTED', 'A ciphertext in wallet.dat is too short to be one of ours.');
    }
    const iv = blob.subarray(0, GCM_IV_BYTES);
    const out = Buffer.alloc(blob.length);
    try {
      this.lib.C_DecryptInit(this.session, this.gcm(Buffer.from(iv), aad), keys.data);
      const plain = this.lib.C_Decrypt(this.session, blob.subarray(GCM_IV_BYTES), out);
      const copy = Buffer.from(plain);
      return copy;
    } catch (e) {
      throw this.fail(e, 'decrypting with the data key', 'dataMechanism', true);
    } finally {
      out.fill(0);
    }
  }

  private gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
    return {
      mechanism: mechanism(this.profile.dataMechanism, 'dataMechanism', this.profile.name),
      parameter: {
        type: pkcs11js.CK_PARAMS_GCM,
        iv,
        ivBits: iv.length * 8,
        aad,
        tagBits: GCM_TAG_BITS,
      } as pkcs11js.GcmParams,
    };
  }

  // ---------------------------------------------------------------- audit key

  /** ECDSA P-256 over a 32-byte record hash; returns r ‖ s (IEEE P1363, 64 bytes). */
  auditSign(hash: Uint8Array): Buffer {
    const keys = this.vaultKeys();
    return Buffer.from(this.signRaw(keys.audit, hash));
  }

  // ---------------------------------------------------------------- OTP keys

  /** Imports a Yubico OTP AES-128 key as a non-extractable token object (CKM_AES_ECB decrypt only). */
  importAesKey(value: Buffer, idHex: string, label: string): void {
    this.tokenFiles(() => {
      try {
        this.lib.C_CreateObject(this.session, otpAesKeyTemplate(value, idHex, label));
      } catch (e) {
        throw this.fail(e, 'importing an OTP key');
      }
      this.keepBackup();
    });
  }

  /** AES-128-ECB decrypt of one block with a token key (Yubico OTP). */
  aesEcbDecrypt(idHex: string, block: Buffer): Buffer {
    const handle = this.findOne(pkcs11js.CKO_SECRET_KEY, idHex, 'OTP key');
    try {
      this.lib.C_DecryptInit(this.session, { mechanism: MECHANISMS.CKM_AES_ECB! }, handle);
      return Buffer.from(this.lib.C_Decrypt(this.session, block, Buffer.alloc(32)));
    } catch (e) {
      throw this.fail(e, 'decrypting an OTP');
    }
  }
  /**
   * For hsm/token-testing.ts only: the steps that tests and benchmarks exercise one at a
   * time (read an attribute, unwrap without signing, sign with a resident key). Production
   * code signs through signWithWrapped / signEd25519WithWrapped, which destroy what they unwrap.
   */
  static internalsForTesting(token: Token): TokenInternals {
    return {
      lib: token.lib,
      session: token.session,
      readValue: (handle) => token.readValue(handle),
      readPublicKey: (handle) => token.readPublicKey(handle),
      destroy: (handle) => token.destroy(handle),
      unwrapSecp256k1: (wrapped) => token.unwrapSecp256k1(wrapped),
      signRaw: (handle, digest) => token.signRaw(handle, digest),
      signEd25519Raw: (handle, message) => token.signEd25519Raw(handle, message),
    };
  }
}

/** CKA_EC_POINT of an Ed25519 public key: a DER OCTET STRING around 32 bytes (SoftHSM2), or the bare 32 bytes. */
export function decodeEdPoint(value: Buffer): Buffer {
  if (value.length === 34 && value[0] === 0x04 && value[1] === 0x20) return Buffer.from(value.subarray(2));
  if (value.length === 32) return Buffer.from(value);
  throw new HardkmsError('HSM_FAILED', 'The token returned an ed25519 public key in an unexpected encoding.');
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

function compress(uncompressed: Buffer): Buffer {
  if (uncompressed.length !== 65 || uncompressed[0] !== 0x04) {
    throw new HardkmsError('HSM_FAILED', 'The token returned an EC point in an unexpected format.');
  }
  const y = uncompressed.subarray(33, 65);
  const prefix = (y[31]! & 1) === 1 ? 0x03 : 0x02;
  return Buffer.concat([Buffer.from([prefix]), uncompressed.subarray(1, 33)]);
}

export interface TokenInternals {
  lib: pkcs11js.PKCS11;
  session: Buffer;
  readValue(handle: Buffer): Buffer;
  readPublicKey(handle: Buffer): Buffer;
  destroy(handle: Buffer): void;
  unwrapSecp256k1(wrapped: WrappedKey): Buffer;
  signRaw(handle: Buffer, digest: Uint8Array): Buffer;
  signEd25519Raw(handle: Buffer, message: Uint8Array): Buffer;
}
