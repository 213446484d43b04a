import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

// npm 11 may skip install scripts it was not told to allow; then these addons are missing
// and hardkms cannot reach a token or a store. package.json's allowScripts must cover them.
describe('native modules built by npm ci', () => {
  for (const [mod, file] of [
    ['pkcs11js', 'build/Release/pkcs11.node'],
    ['better-sqlite3', 'build/Release/better_sqlite3.node'],
  ] as const) {
    it(`${mod} has a compiled addon that loads`, () => {
      const root = dirname(require.resolve(`${mod}/package.json`));
      expect(existsSync(join(root, file))).toBe(true);
      expect(() => require(join(root, file))).not.toThrow();
    });
  }
});
