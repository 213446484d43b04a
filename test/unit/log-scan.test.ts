import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSecrets } from '../support/log-scan.js';
import { TEST_PIN } from '../support/softhsm.js';

describe('the end-of-run secret scan', () => {
  it('finds a known secret in a collected log, and passes a clean one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardkms-scan-'));
    writeFileSync(join(dir, 'clean.log'), '{"level":"info","msg":"signed","pendingId":"5e6645712b55823de7ea82f1"}\n');
    expect(findSecrets(dir)).toEqual([]);
    writeFileSync(join(dir, 'leaky.log'), `{"msg":"login failed","pin":"${TEST_PIN}"}\n`);
    expect(findSecrets(dir)).toEqual([expect.stringContaining('leaky.log contains a known test secret')]);
  });
});
