import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The image build sends the repository minus .dockerignore to the builder; a COPY of a
// path the ignore file drops fails the build (CI's container step broke that way when the
// build stage started to COPY scripts/bundle.mjs). Checked here, where it costs a
// millisecond, not three minutes of npm ci into podman.
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** .dockerignore's rules: in order, the last pattern that matches the path or one of its
 *  parent folders decides; `!` re-includes; `*` and `?` stay inside a segment, `**` spans. */
function ignoreRules(text: string): { re: RegExp; keep: boolean }[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const keep = l.startsWith('!');
      const pattern = (keep ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (pattern.startsWith('**/', i)) {
          re += '(?:.*/)?';
          i += 2;
        } else if (pattern.startsWith('**', i)) {
          re += '.*';
          i += 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { re: new RegExp(`^${re}$`), keep };
    });
}

function excluded(rules: { re: RegExp; keep: boolean }[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) out = !rule.keep;
  return out;
}

function filesUnder(path: string): string[] {
  if (!existsSync(join(root, path))) return [];
  if (!statSync(join(root, path)).isDirectory()) return [path];
  return readdirSync(join(root, path), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length));
}

/** Sources of the COPY lines that read the build context (not --from=another stage). */
function copiedFromContext(dockerfile: string): string[] {
  return [...readFileSync(join(root, dockerfile), 'utf8').matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) =>
    m[1]!.trim().split(/\s+/).slice(0, -1),
  );
}

describe('docker build context', () => {
  const rules = ignoreRules(readFileSync(join(root, '.dockerignore'), 'utf8'));

  it('the ignore rules read as Docker reads them (a sanity check of this test)', () => {
    expect(excluded(rules, 'scripts/test.sh')).toBe(true);
    expect(excluded(rules, 'node_modules/pkcs11js/package.json')).toBe(true);
    expect(excluded(rules, 'src/cli/main.ts')).toBe(false);
    expect(excluded(rules, 'home/wallet.dat.bak')).toBe(true);
  });

  it('holds every file docker/Dockerfile copies from it', () => {
    const sources = copiedFromContext('docker/Dockerfile');
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'src', 'hsm', 'scripts/bundle.mjs']));
    for (const source of sources) {
      const files = filesUnder(source);
      expect(files.length, `${source} is copied but does not exist`).toBeGreaterThan(0);
      const dropped = files.filter((f) => excluded(rules, f));
      expect(dropped, `.dockerignore drops what docker/Dockerfile copies from ${source}`).toEqual([]);
    }
  });
});
