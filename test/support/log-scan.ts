/**
 * Vitest global setup: collects the stderr of every hardkms process the tests start (the
 * CLI and the daemon write their logs there) into one directory, and at the end of the run
 * fails it if any known test secret appears in those logs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_SECRETS } from './known-secrets.js';

export const LOG_DIR_ENV = 'HARDKMS_TEST_LOG_DIR';

export function findSecrets(dir: string): string[] {
  const hits: string[] = [];
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const secret of KNOWN_SECRETS) {
      if (text.includes(secret))
        hits.push(`${file} contains a known test secret (${secret.slice(0, 4)}…, ${secret.length} chars)`);
    }
  }
  return hits;
}

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-test-logs-'));
  process.env[LOG_DIR_ENV] = dir;
  return () => {
    const files = readdirSync(dir).length;
    const hits = findSecrets(dir);
    if (hits.length > 0)
      throw new Error(`Secret scan of ${files} log files failed:\n${hits.join('\n')}\n(logs kept in ${dir})`);
    process.stdout.write(`log scan: ${files} hardkms stderr logs checked, no known secret found\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
