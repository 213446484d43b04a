import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../support/cli.js';

/**
 * `npm run build` bundles the CLI (scripts/bundle.mjs). A CommonJS package reached by a dynamic
 * import() becomes a chunk of its own that esbuild gives only a default export: `(await
 * import('prom-client')).Registry` was undefined in the bundle, and every daemon started with
 * --metrics-addr stopped with an internal error (test/e2e/daemon-health.test.ts saw it). Such a
 * package must be external, where Node's loader gives it its named exports.
 */
describe.skipIf(!existsSync(join(dirname(CLI), 'bundle-meta.json')))('the bundled CLI', () => {
  it('has no chunk that is a CommonJS package behind a dynamic import (only a default export)', () => {
    const dir = dirname(CLI);
    const defaultOnly = readdirSync(dir)
      .filter((f) => /^chunk-[A-Z0-9]+\.js$/.test(f))
      .filter((f) => /^export default require_[A-Za-z0-9_$]+\(\);$/m.test(readFileSync(join(dir, f), 'utf8')));
    expect(defaultOnly).toEqual([]);
  });
});
