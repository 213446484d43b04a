// Shared by the benchmarks: a throwaway SoftHSM2 token and synthetic store rows.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates a SoftHSM2 token in a temp dir and points this process at it (before any C_Initialize). */
export function benchToken(label = 'hardkms', pin = '1234') {
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-bench-'));
  mkdirSync(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  const template = readFileSync(new URL('../../hsm/softhsm2.conf.template', import.meta.url), 'utf8');
  writeFileSync(conf, template.replaceAll('@TOKEN_DIR@', join(dir, 'tokens')));
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '5678'], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'ignore',
  });
  process.env.SOFTHSM2_CONF = conf;
  return { dir, conf, label, pin };
}

/** A private-key row with random (not token-made) contents: for measuring the store alone. */
export function fillerEntry(chain = 'ETH') {
  return {
    signatureId: randomUUID(),
    chain,
    testnet: false,
    kind: 'privateKey',
    publicData: { address: `0x${randomBytes(20).toString('hex')}`, publicKey: `02${randomBytes(32).toString('hex')}` },
    wrappedSecret: randomBytes(56),
    mechanism: 'CKM_AES_KEY_WRAP_PAD',
  };
}
