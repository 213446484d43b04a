import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_FILE_ALLOWED } from '../../../src/config/config.js';
import {
  applyEnvFile,
  envDisplayName,
  envHelpLines,
  envStatusLines,
  ENV_VARS,
  OPERATOR_ENV_VARS,
} from '../../../src/config/env.js';

function files(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p, keep) : keep(p) ? [p] : [];
  });
}
const sources = (dir: string): string[] => files(dir, (p) => p.endsWith('.ts'));
const SYSTEM_ENV_VARS = ENV_VARS.filter((v) => 'system' in v);

/** Not hardkms's: the system's and Node's, set or read by tests as any program would. */
const NOT_OURS = new Set(['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS', 'NODE_TLS_REJECT_UNAUTHORIZED']);

/** Names the test suite, the benchmarks and the scripts read (from process.env in JS; $HARDKMS_… / $BENCH_… in shell). */
function namesReadOutsideSrc(): Map<string, string> {
  const found = new Map<string, string>();
  const scripts = ['test', 'scripts', '.ci'].flatMap((d) => files(d, (p) => !/\.(json|md|txt|pem|yml)$/.test(p)));
  for (const f of scripts) {
    const text = readFileSync(f, 'utf8');
    const js = /\.(ts|mjs|js)$/.test(f);
    const re = js
      ? /process\.env(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g
      : /\$\{?((?:HARDKMS|BENCH)_[A-Z0-9_]*)/g;
    for (const m of text.matchAll(re)) {
      const name = (m[1] ?? m[2])!;
      if (!found.has(name)) found.set(name, f);
    }
  }
  return found;
}

describe('the table of environment variables', () => {
  it('only src/config/env.ts touches process.env (every other module asks it, so every read is in the table)', () => {
    const touching = sources('src')
      .map((f) => relative('.', f).replace(/\\/g, '/'))
      .filter((f) => f !== 'src/config/env.ts')
      .filter((f) => /\bprocess\s*(\.\s*env\b|\[\s*['"`]env['"`]\s*\])/.test(readFileSync(f, 'utf8')));
    expect(touching).toEqual([]);
  });

  it('docs/testing.md names every variable the tests, benchmarks and scripts read, and the test hooks in the table', () => {
    const doc = readFileSync('docs/testing.md', 'utf8');
    const section = doc.slice(
      doc.indexOf('## Variables the tests'),
      doc.indexOf('\n## ', doc.indexOf('## Variables the tests') + 5),
    );
    const operator = (name: string): boolean =>
      OPERATOR_ENV_VARS.some((v) => (v.perChain ? name.startsWith(v.name) : name === v.name));
    const undocumented = [...namesReadOutsideSrc()]
      .filter(([name]) => !NOT_OURS.has(name) && !operator(name) && !section.includes(`\`${name}\``))
      .map(([name, f]) => `${name} (${f})`);
    expect(undocumented).toEqual([]);
    const hooks = ENV_VARS.filter((v) => 'testOnly' in v).map((v) => v.name);
    expect(hooks.length).toBeGreaterThan(0);
    expect(hooks.filter((n) => !section.includes(`\`${n}\``))).toEqual([]);
  });

  it("the README's Environment section lists every variable an operator sets", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(
      readme.indexOf('### Environment'),
      readme.indexOf('\n### ', readme.indexOf('### Environment') + 5),
    );
    expect(OPERATOR_ENV_VARS.map(envDisplayName).filter((n) => !section.includes(`\`${n}\``))).toEqual([]);
    expect(SYSTEM_ENV_VARS.map((v) => v.name)).toEqual(['PATH', 'HOME']);
    expect(SYSTEM_ENV_VARS.filter((v) => !section.includes(`\`${v.name}\``))).toEqual([]);
  });

  it('--help lists every one, and marks the secrets', () => {
    const help = envHelpLines().join('\n');
    for (const v of OPERATOR_ENV_VARS)
      expect(help).toMatch(
        new RegExp(`^  ${envDisplayName(v).replace(/[<>]/g, '.')} +.*${v.secret ? '\\(secret\\)' : ''}`, 'm'),
      );
  });

  it('checkconfig shows each as set or not, a value only where it is not a secret, and every per-chain variable that is set', () => {
    const lines = envStatusLines('k-123456', {
      TATUM_API_URL: 'http://127.0.0.1:1',
      TATUM_KMS_PASSWORD: 'correct horse battery',
      HARDKMS_RPC_ETH: 'https://node.example/v3/key-in-url',
      HARDKMS_CHAIN_ID_BSC: '97',
    });
    expect(lines).toContain('TATUM_API_KEY: set (hidden)');
    expect(lines).toContain('TATUM_API_URL: http://127.0.0.1:1');
    expect(lines).toContain('TATUM_KMS_PASSWORD: set (hidden)');
    expect(lines).toContain('HARDKMS_TOKEN_PIN: not set');
    expect(lines).toContain('HARDKMS_RPC_ETH: set (hidden)');
    expect(lines).toContain('HARDKMS_CHAIN_ID_BSC: 97');
    expect(lines.join('\n')).not.toMatch(/horse|key-in-url|k-123456/);
    expect(lines.some((l) => l.startsWith('HARDKMS_TEST_'))).toBe(false);
    // The system's variables are read, not hardkms configuration: not listed, and PATH not printed.
    expect(
      envStatusLines(undefined, { PATH: '/usr/bin', HOME: '/root' }).filter((l) => /^(PATH|HOME):/.test(l)),
    ).toEqual([]);
    expect(envHelpLines().some((l) => /^ {2}(PATH|HOME) /.test(l))).toBe(false);
  });

  it('env files may set only the Tatum API and the log level', () => {
    expect([...ENV_FILE_ALLOWED].sort()).toEqual(['HARDKMS_LOG_LEVEL', 'TATUM_API_KEY', 'TATUM_API_URL']);
  });

  it("an env file sets allowed names only, never over the operator's environment, and names what it ignored", () => {
    const before = { ...process.env };
    process.env.TATUM_API_URL = 'https://operator.example';
    delete process.env.HARDKMS_LOG_LEVEL;
    delete process.env.HARDKMS_RPC_ETH;
    try {
      const ignored = applyEnvFile({
        HARDKMS_RPC_ETH: 'http://evil.example',
        TATUM_API_URL: 'https://file.example',
        HARDKMS_LOG_LEVEL: 'debug',
        NODE_OPTIONS: '--require /tmp/evil.js',
      });
      expect(ignored).toEqual(['HARDKMS_RPC_ETH', 'NODE_OPTIONS']);
      expect(process.env.TATUM_API_URL).toBe('https://operator.example');
      expect(process.env.HARDKMS_LOG_LEVEL).toBe('debug');
      expect(process.env.HARDKMS_RPC_ETH).toBeUndefined();
      expect(process.env.NODE_OPTIONS).toBe(before.NODE_OPTIONS);
    } finally {
      for (const k of ['TATUM_API_URL', 'HARDKMS_LOG_LEVEL', 'HARDKMS_RPC_ETH'])
        if (before[k] === undefined) delete process.env[k];
        else process.env[k] = before[k];
    }
  });
});
