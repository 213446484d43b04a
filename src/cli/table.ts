import { InputError } from '../errors.js';

type OutputFormat = 'json' | 'text';

/** --output json|text (table is accepted for text). */
export function outputFormat(value: string | undefined, fallback: OutputFormat = 'text'): OutputFormat {
  if (value === undefined) return fallback;
  if (value === 'json') return 'json';
  if (value === 'text' || value === 'table') return 'text';
  throw new InputError(
    `--output '${value}' is not json or text.`,
    'Use --output json for scripts, --output text for people.',
  );
}

/** A plain aligned table on stdout; `footer` is printed under it. */
export function printTable(rows: ReadonlyArray<object>, columns: readonly string[], footer?: string): void {
  const cell = (v: unknown) => (v === undefined || v === null ? '-' : String(v));
  const get = (r: object, c: string) => cell((r as Record<string, unknown>)[c]);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => get(r, c).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    line([...columns]),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => get(r, c)))),
  ];
  if (footer) out.push(footer);
  process.stdout.write(`${out.join('\n')}\n`);
}
