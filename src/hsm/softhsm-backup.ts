import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { EnvSource } from '../config/env.js';
import { HardkmsError } from '../errors.js';
import { check, expecting, jsonObject, v } from '../validate.js';
import {
  findLiveTokens,
  parseObjectFile,
  parseTokenObject,
  readSoftHsmConfig,
  stateFiles,
  type SoftHsmConfig,
} from './softhsm-files.js';
import { sleepSync, withTokenDirLock } from './softhsm-lock.js';

/**
 * A verified copy of a SoftHSM2 token's state files, kept beside the token directory
 * (`<tokendir>.hardkms-backup/<token uuid>/g…/`), so that a token.object left truncated by
 * a kill during C_Login can be put back. The copy is what the token directory holds (key
 * objects encrypted under the token's PIN-derived key), so it is exactly as sensitive as
 * the token directory itself: same owner, mode 0700/0600.
 *
 * The copy follows the live token: whenever the user PIN blob or the set of key objects
 * differs from the newest copy (init, a PIN change, an OTP key), a new generation is
 * written, checked and only then marked complete by its manifest; the previous ones stay
 * until the new one is complete.
 */

const MANIFEST = 'manifest.json';

/** A file name inside one directory: names from a manifest are joined to paths that are written. */
const fileName = v.pipe(
  v.string(expecting('a file name')),
  v.check((n) => /^[A-Za-z0-9._-]{1,255}$/.test(n) && n !== '.' && n !== '..', expecting('a file name')),
);
const text = v.string(expecting('a string'));
const backupManifest: v.GenericSchema<unknown, BackupManifest> = jsonObject({
  format: v.literal(1),
  label: text,
  serial: text,
  tokenDirName: fileName,
  createdAt: text,
  userPinSha256: v.optional(text),
  files: v.array(
    jsonObject({
      name: fileName,
      size: v.pipe(
        v.number(expecting('a size')),
        v.check((n) => Number.isSafeInteger(n) && n >= 0, expecting('a size')),
      ),
      sha256: v.pipe(text, v.regex(/^[0-9a-f]{64}$/, expecting('a SHA-256 in hex'))),
    }),
  ),
});
const KEEP_GENERATIONS = 3;
const READ_RETRIES = 5;
const RETRY_WAIT_MS = 20;

interface BackupFile {
  name: string;
  size: number;
  sha256: string;
}

interface BackupManifest {
  format: 1;
  label: string;
  serial: string;
  /** Name of the token's directory inside tokendir. */
  tokenDirName: string;
  createdAt: string;
  /** SHA-256 of the user PIN blob in token.object: tells whether this copy predates a PIN change. */
  userPinSha256?: string | undefined;
  files: BackupFile[];
}

interface TokenProblem {
  file: string;
  problem: string;
}

export interface TokenCheck {
  label: string;
  tokenDir: string;
  /** ok: whole; damaged: files short, missing or unreadable; absent: no such token (and no copy of one). */
  state: 'ok' | 'damaged' | 'absent';
  serial: string | undefined;
  liveDir: string | undefined;
  problems: TokenProblem[];
  backup: { path: string; createdAt: string; files: number } | undefined;
  /** false when the token's PIN or key objects changed after the newest copy was made. */
  backupCurrent: boolean | undefined;
  /** Every damaged file has a verified copy. */
  repairable: boolean;
}

interface RepairResult {
  before: TokenCheck;
  after: TokenCheck;
  restored: string[];
  backupPath: string | undefined;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeDurable(path: string, data: Buffer | string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the file fsyncs still hold.
  }
}

/** A file is judged whole or not; another process may be rewriting it this instant, so look again before saying no. */
function readWhole(path: string, isTokenObject: boolean): { bytes: Buffer; problem: string | undefined } {
  let bytes = Buffer.alloc(0);
  let problem: string | undefined;
  for (let i = 0; i < READ_RETRIES; i++) {
    bytes = readFileSync(path);
    const parsed = isTokenObject ? parseTokenObject(bytes) : parseObjectFile(bytes);
    problem = parsed.ok ? undefined : parsed.problem;
    if (!problem) break;
    sleepSync(RETRY_WAIT_MS);
  }
  return { bytes, problem };
}

export class SoftHsmBackup {
  readonly config: SoftHsmConfig;
  readonly label: string;
  readonly root: string;

  private constructor(config: SoftHsmConfig, label: string) {
    this.config = config;
    this.label = label;
    this.root = `${config.tokenDir}.hardkms-backup`;
  }

  /** undefined when SoftHSM2 has no readable file-backend config (another token type, or the db backend). */
  static forLabel(label: string, env?: EnvSource): SoftHsmBackup | undefined {
    const config = readSoftHsmConfig(env);
    if (!config || config.backend !== 'file') return undefined;
    return new SoftHsmBackup(config, label);
  }

  /**
   * Runs fn under the host-wide lock of this token directory (softhsm-lock.ts): for what
   * reads or rewrites the token's files as a whole. No directory yet: nothing to guard.
   */
  exclusive<T>(fn: () => T): T {
    return existsSync(this.config.tokenDir) ? withTokenDirLock(this.config.tokenDir, fn) : fn();
  }

  /** Generations of copies for one token directory, newest first, with their verified manifests. */
  private generations(tokenDirName: string): { path: string; manifest: BackupManifest | undefined }[] {
    const dir = join(this.root, tokenDirName);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.startsWith('g'))
      .sort()
      .reverse()
      .map((n) => ({ path: join(dir, n), manifest: this.verifiedManifest(join(dir, n)) }));
  }

  private verifiedManifest(path: string): BackupManifest | undefined {
    try {
      const read = check(backupManifest, JSON.parse(readFileSync(join(path, MANIFEST), 'utf8')));
      if (!read.ok) return undefined;
      const manifest = read.value;
      for (const f of manifest.files) {
        const bytes = readFileSync(join(path, f.name));
        if (bytes.length !== f.size || sha256(bytes) !== f.sha256) return undefined;
      }
      return manifest;
    } catch {
      return undefined;
    }
  }

  /** The newest complete copy of this label's token, whatever state the live token is in. */
  latest(tokenDirName?: string): { path: string; manifest: BackupManifest } | undefined {
    const names = tokenDirName ? [tokenDirName] : existsSync(this.root) ? readdirSync(this.root) : [];
    let best: { path: string; manifest: BackupManifest } | undefined;
    for (const name of names) {
      for (const g of this.generations(name)) {
        if (!g.manifest || g.manifest.label !== this.label) continue;
        if (!best || g.manifest.createdAt > best.manifest.createdAt) best = { path: g.path, manifest: g.manifest };
        break;
      }
    }
    return best;
  }

  /** Looks at the files only: no library, no login. */
  check(): TokenCheck {
    const live = findLiveTokens(this.config.tokenDir).find((t) => t.label === this.label);
    const backup = this.latest(live ? basename(live.dir) : undefined);
    const liveDir = live?.dir ?? (backup ? join(this.config.tokenDir, backup.manifest.tokenDirName) : undefined);
    const result: TokenCheck = {
      label: this.label,
      tokenDir: this.config.tokenDir,
      state: 'absent',
      serial: live?.serial ?? backup?.manifest.serial,
      liveDir,
      problems: [],
      backup: backup
        ? { path: backup.path, createdAt: backup.manifest.createdAt, files: backup.manifest.files.length }
        : undefined,
      backupCurrent: undefined,
      repairable: false,
    };
    if (!liveDir) {
      // No whole token and no copy: a token.object that no longer parses may still be this
      // one; say so rather than let "no such token" suggest creating a new one.
      const broken = brokenTokenDirs(this.config.tokenDir);
      if (broken.length > 0) {
        result.state = 'damaged';
        result.liveDir = broken[0]!.dir;
        result.problems.push({ file: 'token.object', problem: broken[0]!.problem });
      }
      return result;
    }
    result.state = 'ok';
    if (!existsSync(liveDir)) {
      result.problems.push({ file: '.', problem: 'token directory missing' });
    } else {
      const present = new Set(stateFiles(liveDir));
      if (!present.has('token.object')) result.problems.push({ file: 'token.object', problem: 'missing' });
      for (const name of present) {
        if (name === 'generation') continue;
        const { problem } = readWhole(join(liveDir, name), name === 'token.object');
        if (problem) result.problems.push({ file: name, problem });
      }
      for (const f of backup?.manifest.files ?? []) {
        if (f.name.endsWith('.object') && !present.has(f.name))
          result.problems.push({ file: f.name, problem: 'missing (present in the backup)' });
      }
      if (result.problems.length === 0 && backup) result.backupCurrent = this.isCurrent(liveDir, backup.manifest);
    }
    if (result.problems.length > 0) {
      result.state = 'damaged';
      const names = new Set(backup?.manifest.files.map((f) => f.name) ?? []);
      result.repairable = result.problems.every((p) => (p.file === '.' ? names.size > 0 : names.has(p.file)));
    }
    return result;
  }

  private isCurrent(liveDir: string, manifest: BackupManifest): boolean {
    const parsed = parseTokenObject(readFileSync(join(liveDir, 'token.object')));
    if (!parsed.ok) return false;
    const pin = parsed.facts.userPin ? sha256(parsed.facts.userPin) : undefined;
    if (pin !== manifest.userPinSha256) return false;
    const backedUp = new Set(manifest.files.map((f) => f.name));
    return stateFiles(liveDir).every((n) => backedUp.has(n));
  }

  /** Throws HSM_TOKEN_DAMAGED when the token's files are not whole (checked before every open and login). */
  assertIntact(): void {
    const c = this.check();
    if (c.state !== 'damaged') return;
    throw damagedError(c);
  }

  /**
   * Makes a new verified copy when the live token differs from the newest one. Returns
   * the copy's path, or undefined when the newest copy is already current.
   */
  ensureCurrent(): string | undefined {
    const live = findLiveTokens(this.config.tokenDir).find((t) => t.label === this.label);
    if (!live) return undefined;
    const name = basename(live.dir);
    const newest = this.latest(name);
    if (newest && this.isCurrent(live.dir, newest.manifest)) return undefined;
    return this.refresh(live.dir, live.serial);
  }

  private refresh(liveDir: string, serial: string): string {
    const name = basename(liveDir);
    const parent = join(this.root, name);
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString();
    const gen = join(parent, `g${stamp.replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`);
    this.copyTo(liveDir, serial, gen, stamp);
    fsyncDir(parent);
    this.prune(name);
    return gen;
  }

  /** An operator's backup: a verified copy of the live token in `dir/<token dir name>/`. */
  exportTo(dir: string): { path: string; manifest: BackupManifest } {
    // Not while another process's login rewrites token.object (softhsm-lock.ts).
    return this.exclusive(() => this.exportUnlocked(dir));
  }

  private exportUnlocked(dir: string): { path: string; manifest: BackupManifest } {
    const live = findLiveTokens(this.config.tokenDir).find((t) => t.label === this.label);
    if (!live) throw damagedError(this.check());
    this.assertIntact();
    const target = join(dir, basename(live.dir));
    if (existsSync(target)) {
      throw new HardkmsError('BACKUP_EXISTS', `${target} already exists; nothing was written.`, {
        hint: 'Back up into a new, empty directory (e.g. one per date).',
      });
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const manifest = this.copyTo(live.dir, live.serial, target, new Date().toISOString());
    fsyncDir(dir);
    return { path: target, manifest };
  }

  private copyTo(liveDir: string, serial: string, gen: string, stamp: string): BackupManifest {
    mkdirSync(gen, { mode: 0o700 });
    try {
      const files: BackupFile[] = [];
      let userPinSha256: string | undefined;
      for (const f of stateFiles(liveDir)) {
        const isTokenObject = f === 'token.object';
        const { bytes, problem } =
          f === 'generation'
            ? { bytes: readFileSync(join(liveDir, f)), problem: undefined }
            : readWhole(join(liveDir, f), isTokenObject);
        if (problem) throw damagedError({ ...this.check(), problems: [{ file: f, problem }] });
        if (isTokenObject) {
          const parsed = parseTokenObject(bytes);
          if (parsed.ok && parsed.facts.userPin) userPinSha256 = sha256(parsed.facts.userPin);
        }
        writeDurable(join(gen, f), bytes);
        files.push({ name: f, size: bytes.length, sha256: sha256(bytes) });
      }
      const manifest: BackupManifest = {
        format: 1,
        label: this.label,
        serial,
        tokenDirName: basename(liveDir),
        createdAt: stamp,
        userPinSha256,
        files,
      };
      writeDurable(join(gen, `${MANIFEST}.tmp`), `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(join(gen, `${MANIFEST}.tmp`), join(gen, MANIFEST));
      fsyncDir(gen);
      if (!this.verifiedManifest(gen)) throw new Error('the copy does not read back as written');
      return manifest;
    } catch (e) {
      rmSync(gen, { recursive: true, force: true });
      throw e;
    }
  }

  private prune(name: string): void {
    let kept = 0;
    for (const g of this.generations(name)) {
      if (g.manifest && kept < KEEP_GENERATIONS) {
        kept++;
        continue;
      }
      // An incomplete generation may be another process's copy in progress: leave young ones.
      if (!g.manifest && Date.now() - statSync(g.path).mtimeMs < 60_000) continue;
      rmSync(g.path, { recursive: true, force: true });
    }
  }

  /**
   * Puts back every damaged or missing file from the newest complete copy. The token must
   * not be in use (stop the daemon first): SoftHSM2 reads its files when it starts.
   */
  repair(): RepairResult {
    return this.exclusive(() => this.repairUnlocked());
  }

  private repairUnlocked(): RepairResult {
    const before = this.check();
    if (before.state !== 'damaged') return { before, after: before, restored: [], backupPath: before.backup?.path };
    const backup = this.latest(before.liveDir ? basename(before.liveDir) : undefined);
    if (!backup || !before.liveDir) {
      throw new HardkmsError(
        'HSM_TOKEN_UNREPAIRABLE',
        `Token '${this.label}' in ${this.config.tokenDir} is damaged and hardkms has no copy of it.`,
        {
          hint: 'Restore the token directory from your own backup (see docs/runbook.md, "Backups"); do not create a new token: the keys are in the old one.',
        },
      );
    }
    const liveDir = before.liveDir;
    mkdirSync(liveDir, { recursive: true, mode: 0o700 });
    const wanted = before.problems.some((p) => p.file === '.')
      ? backup.manifest.files.map((f) => f.name)
      : before.problems.map((p) => p.file);
    const restored: string[] = [];
    for (const name of wanted) {
      const f = backup.manifest.files.find((x) => x.name === name);
      if (!f) continue;
      const tmp = join(liveDir, `.${name}.hardkms-restore`);
      writeDurable(tmp, readFileSync(join(backup.path, name)));
      renameSync(tmp, join(liveDir, name));
      restored.push(name);
    }
    // SoftHSM2 expects its lock files beside the objects it opens.
    for (const name of restored) {
      const lock = join(liveDir, name.replace(/\.object$/, '.lock'));
      if (name.endsWith('.object') && !existsSync(lock)) writeDurable(lock, '');
    }
    fsyncDir(liveDir);
    return { before, after: this.check(), restored, backupPath: backup.path };
  }
}

function brokenTokenDirs(tokenDir: string): { dir: string; problem: string }[] {
  if (!existsSync(tokenDir)) return [];
  const out: { dir: string; problem: string }[] = [];
  for (const name of readdirSync(tokenDir)) {
    const file = join(tokenDir, name, 'token.object');
    if (!existsSync(file)) continue;
    const { problem } = readWhole(file, true);
    if (problem) out.push({ dir: join(tokenDir, name), problem });
  }
  return out;
}

export function damagedError(c: TokenCheck): HardkmsError {
  const what = c.problems.map((p) => `${p.file}: ${p.problem}`).join('; ');
  return new HardkmsError(
    'HSM_TOKEN_DAMAGED',
    `The SoftHSM2 token '${c.label}' in ${c.liveDir ?? c.tokenDir} is damaged (${what}). Its keys are not lost.`,
    {
      hint: c.repairable
        ? 'Stop every hardkms process using this token, then run `hardkms token repair` (it restores the files from the verified copy hardkms keeps beside the token directory). Do not create a new token.'
        : 'Restore the token directory from your own backup (docs/runbook.md, "Backups"). Do not create a new token: the keys are in the old one.',
    },
  );
}

/** The backup for a token profile, or undefined where there is no SoftHSM2 file store to guard. */
export function softHsmBackupFor(
  profile: string,
  modulePath: string | undefined,
  label: string,
): SoftHsmBackup | undefined {
  const isSoftHsm = profile === 'softhsm2' || (modulePath !== undefined && /softhsm/i.test(modulePath));
  return isSoftHsm ? SoftHsmBackup.forLabel(label) : undefined;
}
