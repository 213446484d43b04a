import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DaemonMetrics } from '../../../src/signer/observe/metrics.js';

const dir = fileURLToPath(new URL('../../../docker/prometheus/', import.meta.url));

describe('docker/prometheus/alerts.yml', () => {
  it('passes its promtool rule tests (each alert fires on trouble and stays quiet on a healthy daemon)', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.error, 'promtool missing: run bash scripts/setup.sh (Debian package prometheus)').toBeUndefined();
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('names only metrics the daemon exports', async () => {
    const exported = new Set((await (await DaemonMetrics.create()).registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(
      [...readFileSync(`${dir}alerts.yml`, 'utf8').matchAll(/\bhardkms_[a-z0-9_]+/g)].map((m) => m[0]),
    );
    expect(used.size).toBeGreaterThanOrEqual(8);
    for (const name of used) expect(exported, `${name} is used by an alert but not exported`).toContain(name);
    execFileSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir });
  });
});
