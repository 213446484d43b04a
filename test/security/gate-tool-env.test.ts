import { afterEach, describe, expect, it } from 'vitest';
import { runTool } from '../../src/gate/drivers/exec.js';

/**
 * A YubiKey tool runs with a fixed, minimal environment (issue 9 item 2; kept when the
 * variables moved behind src/config/env.ts, issue 15 item 5): PATH=/usr/bin:/bin, the C
 * locale and the caller's HOME, and nothing else. The caller's PATH (which could name a
 * directory where a fake `ykinfo` or a library waits), LD_PRELOAD, NODE_OPTIONS and every
 * hardkms variable, secret or not, stay out. /usr/bin/env prints what the child got.
 */
const PLANTED: Record<string, string> = {
  PATH: '/tmp/evil-bin:/usr/local/bin:/usr/bin:/bin',
  LD_PRELOAD: '/tmp/evil.so',
  NODE_OPTIONS: '--require /tmp/evil.js',
  TATUM_API_KEY: 'planted-api-key',
  TATUM_KMS_PASSWORD: 'planted-password',
  HARDKMS_TOKEN_PIN: 'planted-pin',
  HARDKMS_RPC_ETH: 'https://node.example/planted-key',
  SOFTHSM2_CONF: '/tmp/evil-softhsm2.conf',
};

const saved = new Map<string, string | undefined>();
function plant(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

async function childEnv(): Promise<Record<string, string>> {
  const r = await runTool('/usr/bin/env', [], { timeoutMs: 10_000 });
  expect(r.code).toBe(0);
  return Object.fromEntries(
    r.stdout
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
});

describe('the environment a YubiKey tool runs with', () => {
  it("is PATH=/usr/bin:/bin, the C locale and the caller's HOME, whatever the caller's environment holds", async () => {
    plant({ ...PLANTED, HOME: '/home/operator' });
    expect(await childEnv()).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C', HOME: '/home/operator' });
  });

  it('has no HOME when the caller has none (unset or empty)', async () => {
    plant({ ...PLANTED, HOME: undefined });
    expect(await childEnv()).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' });
    plant({ HOME: '' });
    expect(await childEnv()).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' });
  });
});
