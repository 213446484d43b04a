import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, collectLog, runCli } from '../../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../../support/softhsm.js';

const TRACE = fileURLToPath(new URL('../../support/module-trace.mjs', import.meta.url));
const PASSWORD = 'Pw9fK3Zq7xLm2vQ8';

// `npm run build` bundles the CLI (scripts/bundle.mjs): a loaded chunk stands for the source
// modules it holds, listed in bundle-meta.json beside it (absent from a tsc-only build).
const BUNDLE_META = join(dirname(CLI), 'bundle-meta.json');
const chunks: Record<string, string[]> = existsSync(BUNDLE_META)
  ? (JSON.parse(readFileSync(BUNDLE_META, 'utf8')) as { chunks: Record<string, string[]> }).chunks
  : {};

/** The files a loaded module stands for: itself, or the modules of a bundle's chunk. */
function sourcesOf(file: string): string[] {
  const path = file.startsWith('file:') ? fileURLToPath(file) : file;
  return dirname(path) === dirname(CLI) && chunks[basename(path)] ? [path, ...chunks[basename(path)]!] : [path];
}

/** The npm packages a hardkms process loaded, traced by test/support/module-trace.mjs. */
function packagesLoaded(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; packages: Set<string> } {
  const trace = join(mkdtempSync(join(tmpdir(), 'hardkms-trace-')), 'modules.txt');
  const r = spawnSync(process.execPath, ['--import', TRACE, CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, HARDKMS_MODULE_TRACE: trace },
    encoding: 'utf8',
  });
  collectLog(r.stderr);
  const packages = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n').filter(Boolean)) {
    for (const source of sourcesOf(line)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
      if (m) packages.add(m[1]!);
    }
  }
  return { code: r.status, stdout: r.stdout, packages };
}

// Start-up time is module loading (benchmark: scripts/bench/cli). What each path may load is
// asserted here; how long it takes is only measured there.
const CHAIN_AND_DAEMON_LIBRARIES = [
  'ethers',
  'algosdk',
  '@stellar/stellar-base',
  '@solana/web3.js',
  'pino',
  'prom-client',
  'thor-devkit',
  'age-encryption',
];

describe('CLI start-up loads only what the command uses', () => {
  it('--help, no command and a misspelt command load commander and nothing else', () => {
    for (const args of [['--help'], [], ['getadress', 'x', '0']]) {
      const r = packagesLoaded(args);
      expect([...r.packages], args.join(' ')).toEqual(['commander']);
    }
    const help = packagesLoaded(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('getaddress [options] <signatureId> <index>');
    expect(help.stdout).toContain('Chains signed by the daemon:');
  });

  describe('on a vault', () => {
    let token: TestToken;
    let env: Record<string, string>;
    let path: string;
    let id: string;
    beforeAll(async () => {
      token = createTestToken('hardkms', { setProcessEnv: false });
      path = join(mkdtempSync(join(tmpdir(), 'hardkms-startup-')), 'wallet.dat');
      env = { ...token.env, TATUM_KMS_PASSWORD: PASSWORD };
      expect(
        (await runCli(['init', '--path', path, '--testnet'], { env: { ...env, HARDKMS_TOKEN_PIN: TEST_PIN } })).code,
      ).toBe(0);
      const r = await runCli(['generatemanagedwallet', 'ETH', '--path', path, '--testnet'], { env });
      expect(r.code).toBe(0);
      id = (r.json() as { signatureId: string }).signatureId;
    });

    it('getaddress unseals, derives and prints without the chain libraries, the logger or the metrics', () => {
      const r = packagesLoaded(['getaddress', id, '0', '--path', path], env);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ address: expect.stringMatching(/^0x[0-9a-f]{40}$/) });
      expect(r.packages.has('pkcs11js')).toBe(true); // the trace sees the token being used
      for (const lib of CHAIN_AND_DAEMON_LIBRARIES) expect(r.packages.has(lib), lib).toBe(false);
      // Addresses need bitcoinjs-lib's networks, hashes and payments, not its PSBT code.
      expect(r.packages.has('bip174'), 'bip174').toBe(false);
    });

    it("the daemon loads its logger, and a chain family's signing libraries only on that family's first transaction", () => {
      const r = packagesLoaded(['daemon', '--help'], env);
      expect(r.code).toBe(0);
      for (const lib of ['bitcoinjs-lib', 'pino']) expect(r.packages.has(lib), lib).toBe(true);
      // ethers (EVM signing) and bitcoinjs-lib's PSBT code (bip174) are not needed to start or poll.
      for (const lib of ['ethers', 'bip174']) expect(r.packages.has(lib), lib).toBe(false);
      // The metrics registry is built only for --metrics-addr.
      expect(r.packages.has('prom-client')).toBe(false);
    });
  });
});
