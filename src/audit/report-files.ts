import { chmodSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RenderedReport } from './report-html.js';

/**
 * Writes the index at `indexPath` and its pages beside it, each through a temporary file
 * and a rename (a reader never sees half a page); pages a previous, longer report left
 * there are removed so that no stale page is mistaken for part of this one.
 */
export function writeReportFiles(indexPath: string, rendered: RenderedReport): void {
  const dir = dirname(indexPath);
  const write = (path: string, html: string): void => {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, html, { mode: 0o644 });
    chmodSync(tmp, 0o644);
    renameSync(tmp, path);
  };
  for (const p of rendered.pages) write(join(dir, p.name), p.html);
  write(indexPath, rendered.index);
  const stem = basename(indexPath).replace(/\.html?$/i, '');
  const current = new Set(rendered.pages.map((p) => p.name));
  const pagePattern = /^(.*)\.(records|operations|admin|ceremonies)-\d+\.html$/;
  for (const name of readdirSync(dir)) {
    const m = pagePattern.exec(name);
    if (m && m[1] === stem && !current.has(name)) unlinkSync(join(dir, name));
  }
}
