import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_FILE_ALLOWED } from '../../../src/config/config.js';
import { envDisplayName, envHelpLines, envStatusLines, OPERATOR_ENV_VARS } from '../../../src/config/env.js';

describe('the table of environment variables', () => {
  it("the README's Environment section lists every variable an operator sets", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(
      readme.indexOf('### Environment'),
      readme.indexOf('\n### ', readme.indexOf('### Environment') + 5),
    );
    expect(OPERATOR_ENV_VARS.map(envDisplayName).filter((n) => !section.includes(`\`${n}\``))).toEqual([]);
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
  });

  it('env files may set only the Tatum API and the log level', () => {
    expect([...ENV_FILE_ALLOWED].sort()).toEqual(['HARDKMS_LOG_LEVEL', 'TATUM_API_KEY', 'TATUM_API_URL']);
  });
});
