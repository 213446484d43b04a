import { createHash, createHmac } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DriverName, YubiKeyDriver } from '../../../src/gate/drivers/driver.js';
import { YubiKeyGateProvider } from '../../../src/gate/yubikey-provider.js';
import { Token } from '../../../src/hsm/token.js';
import type { SealContext, SealRecord, VaultSecret, VaultSecretProvider } from '../../../src/vault/secret.js';
import { Vault } from '../../../src/vault/vault.js';
import { expectError, expectOk, GateBench } from '../../support/gate-bench.js';

/** Every string and number stored in a JSON value, depth first. */
function leaves(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (typeof value === 'object') for (const v of Object.values(value)) leaves(v, out);
  return out;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A stored value as the byte strings an attacker would try. */
function variants(text: string): Buffer[] {
  const out = [Buffer.from(text, 'utf8')];
  if (/^([0-9a-f]{2})+$/i.test(text)) out.push(Buffer.from(text, 'hex'));
  return out.filter((b) => b.length > 0);
}

function fit(bytes: Buffer, n: number): Buffer {
  return bytes.length >= n ? Buffer.from(bytes.subarray(0, n)) : Buffer.concat([bytes, Buffer.alloc(n - bytes.length)]);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const quietCtx = (vaultId: string): SealContext => ({ vaultId, mainnet: true, audit: () => undefined });

describe('hardware binding: wallet.dat, audit log and token directory alone open nothing', () => {
  const bench = new GateBench();
  const copy = join(bench.dir, 'stolen');
  const realKeys = join(bench.dir, 'real-keys');
  let record: SealRecord & { credentials: Array<{ serial: number; challenge: string }> };
  let vaultId: string;
  let signatureId: string;
  let candidates: Buffer[];

  beforeAll(async () => {
    const init = await bench.cli([
      'init',
      '--yubikeys',
      '3',
      '--threshold',
      '2',
      '--driver',
      'emulator',
      '--allow-emulated-yubikey',
    ]);
    expectOk(init);
    vaultId = (init.json() as { vaultId: string }).vaultId;
    signatureId = await bench.wallet('BTC', { mainnet: true });
    expectOk(await bench.cli(['rotate'])); // a random token PIN, known to nobody

    // The thief's copy: every file hardkms and the token keep, but no YubiKey.
    mkdirSync(copy);
    for (const f of ['wallet.dat', 'audit.log', 'audit.pub.pem']) copyFileSync(join(bench.dir, f), join(copy, f));
    cpSync(bench.token.tokenDir, join(copy, 'tokens'), { recursive: true });
    writeFileSync(
      join(copy, 'softhsm2.conf'),
      readFileSync(bench.token.conf, 'utf8').replace(bench.token.tokenDir, join(copy, 'tokens')),
    );
    mkdirSync(realKeys);
    for (const f of readdirSync(bench.keys)) renameSync(join(bench.keys, f), join(realKeys, f));
    // This process uses the copied token from now on (SoftHSM2 reads the conf once).
    process.env.SOFTHSM2_CONF = join(copy, 'softhsm2.conf');

    const db = new Database(join(copy, 'wallet.dat'), { readonly: true });
    const stored: string[] = [];
    for (const row of db.prepare('SELECT value FROM meta').all() as Array<{ value: string }>)
      leaves(tryJson(row.value), stored).push(row.value);
    for (const row of db.prepare('SELECT * FROM wallets').all() as Array<Record<string, unknown>>) {
      for (const v of Object.values(row)) stored.push(Buffer.isBuffer(v) ? v.toString('hex') : String(v));
    }
    db.close();
    record = JSON.parse(
      (
        new Database(join(copy, 'wallet.dat'), { readonly: true })
          .prepare("SELECT value FROM meta WHERE key = 'seal'")
          .get() as { value: string }
      ).value,
    );
    for (const line of readFileSync(join(copy, 'audit.log'), 'utf8').trim().split('\n'))
      leaves(JSON.parse(line), stored);
    stored.push(readFileSync(join(copy, 'audit.pub.pem'), 'utf8'));
    const unique = new Map<string, Buffer>();
    for (const s of stored) for (const b of variants(s)) unique.set(b.toString('hex'), b);
    candidates = [...unique.values()];
    expect(candidates.length).toBeGreaterThan(100);
  });

  /** Unseals the copy with the real emulated keys: proves the harness can open it. */
  async function realUnseal(): Promise<VaultSecret> {
    return new YubiKeyGateProvider({ emulatorDir: realKeys }).unseal(record, quietCtx(vaultId));
  }

  it('the copied vault opens with the real keys (control)', async () => {
    const secret = await realUnseal();
    const provider: VaultSecretProvider = {
      name: 'test',
      seal: () => Promise.reject(new Error('no')),
      unseal: async () => secret,
    };
    const vault = await Vault.open({ path: join(copy, 'wallet.dat'), provider, actor: 'test' });
    try {
      expect(vault.store.requireEntry(signatureId).chain).toBe('BTC');
    } finally {
      vault.seal();
    }
  });

  it('the CLI on the copy, without the key files, refuses', async () => {
    const env = { SOFTHSM2_CONF: join(copy, 'softhsm2.conf') };
    const r = await bench.cli(['getaddress', signatureId, '0'], { path: join(copy, 'wallet.dat'), env });
    expectError(r, 'GATE_QUORUM_NOT_MET', /; 0 gave a valid response\. Present: none of the enrolled keys\./);
    const r2 = await bench.cli(['getaddress', signatureId, '0'], {
      path: join(copy, 'wallet.dat'),
      env: { ...env, HARDKMS_YUBIKEY_EMULATOR_DIR: undefined },
    });
    expectError(r2, 'GATE_QUORUM_NOT_MET', /Driver emulator: The YubiKey emulator has no key directory/);
  });

  it('no stored value works as a YubiKey response or as an emulated key secret', async () => {
    const serials = record.credentials.map((c) => c.serial);
    for (const mode of ['response', 'hmac-key'] as const) {
      for (const c of candidates) {
        const driver: YubiKeyDriver = {
          name: 'emulator' as DriverName,
          listSerials: async () => serials,
          respond: async (_cred, challenge) =>
            mode === 'response' ? fit(c, 20) : createHmac('sha1', c).update(challenge).digest(),
        };
        const attempt = new YubiKeyGateProvider({ drivers: { emulator: driver } }).unseal(record, quietCtx(vaultId));
        await expect(attempt).rejects.toMatchObject({ code: 'GATE_QUORUM_NOT_MET' });
      }
    }
  });

  it('no stored value works as the vault secret (store key or token PIN)', async () => {
    const token = Token.open({ label: bench.token.label });
    try {
      for (const c of candidates) {
        expect(() => token.login(c)).toThrow(/PIN|CKR_/);
      }
    } finally {
      token.close();
    }
    for (const c of candidates) {
      const secret = { storeKey: c.length === 32 ? c : createHash('sha256').update(c).digest(), tokenPin: c };
      const provider: VaultSecretProvider = {
        name: 'test',
        seal: () => Promise.reject(new Error('no')),
        unseal: async () => secret,
      };
      await expect(Vault.open({ path: join(copy, 'wallet.dat'), provider, actor: 'thief' })).rejects.toMatchObject({
        code: 'VAULT_META_TAMPERED',
      });
    }
  });

  it('neither the token PIN nor the store key is written in any copied file', async () => {
    const secret = await realUnseal();
    const needles = [
      secret.tokenPin,
      Buffer.from(secret.tokenPin.toString('utf8'), 'utf8'),
      secret.storeKey,
      Buffer.from(secret.storeKey.toString('hex')),
    ];
    needles.push(Buffer.from(secret.storeKey.toString('base64')));
    for (const file of filesUnder(copy)) {
      const bytes = readFileSync(file);
      for (const n of needles) expect(bytes.includes(n), `${file} contains a secret`).toBe(false);
    }
    // And the real secret still logs in to the copied token: the loop above was not locked out.
    const token = Token.open({ label: bench.token.label });
    try {
      expect(() => token.login(secret.tokenPin)).not.toThrow();
    } finally {
      token.close();
    }
  });
});
