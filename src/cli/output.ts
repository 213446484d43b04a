import type { CommanderError } from 'commander';
import { HardkmsError } from '../errors.js';
import { EXIT_CODES } from '../error-codes.js';

let resultFormat: 'json' | 'text' = 'json';

/** `--output text` (every command has the flag): results as readable lines instead of JSON. */
export function setResultFormat(format: 'json' | 'text'): void {
  resultFormat = format;
}

/** stdout carries results only (JSON, as Tatum KMS prints them); everything else goes to stderr. */
export function printJson(value: unknown, pretty = true): void {
  if (resultFormat === 'text') {
    process.stdout.write(`${renderText(value)}\n`);
    return;
  }
  process.stdout.write(`${pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
}

/** A JSON result for people: `key: value` lines, nested objects indented, lists of records as aligned tables. */
function renderText(value: unknown, indent = ''): string {
  const scalar = (v: unknown): string =>
    v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const isFlat = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => x === null || typeof x !== 'object');
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    if (value.every(isFlat)) {
      const columns = [...new Set(value.flatMap((r) => Object.keys(r)))];
      const widths = columns.map((c) => Math.max(c.length, ...value.map((r) => scalar(r[c]).length)));
      const line = (cells: string[]): string =>
        `${indent}${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
      return [line(columns), ...value.map((r) => line(columns.map((c) => scalar(r[c]))))].join('\n');
    }
    return value
      .map((v) =>
        typeof v === 'object' && v !== null ? `${indent}-\n${renderText(v, `${indent}  `)}` : `${indent}- ${scalar(v)}`,
      )
      .join('\n');
  }
  if (typeof value !== 'object' || value === null) return `${indent}${scalar(value)}`;
  const entries = Object.entries(value);
  if (entries.length === 0) return `${indent}(empty)`;
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(([k, v]) =>
      typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0)
        ? `${indent}${k}:\n${renderText(v, `${indent}  `)}`
        : `${indent}${`${k}:`.padEnd(width + 1)} ${Array.isArray(v) ? '(none)' : scalar(v)}`,
    )
    .join('\n');
}

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`WARNING: ${message}\n`);
}

/**
 * Errors are JSON on stderr, as Tatum KMS prints them ({"error": ...}), with our code and
 * hint added. A HardkmsError is a user error: no stack. Anything else is a bug: say so.
 */
export function printError(e: unknown): number {
  if (e instanceof HardkmsError) {
    const body: Record<string, string> = { error: e.message, code: e.code };
    if (e.hint) body.hint = e.hint;
    process.stderr.write(`${JSON.stringify(body)}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(
    `${JSON.stringify({ error: `Internal error: ${err.message}`, code: 'INTERNAL', hint: 'This is a bug in hardkms; please report it with the stack below.' })}\n`,
  );
  if (err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT_CODES.internal;
}

/** Commander's exits that are not errors: help and version asked for. */
const NOT_USAGE_ERRORS = new Set([
  'commander.helpDisplayed',
  'commander.version',
  'commander.help',
  'commander.executeSubCommandAsync',
]);

/**
 * A usage error (unknown flag or command, missing argument) in the same JSON shape as every
 * other error, instead of commander's text and a help dump: scripts parse stderr the same
 * way whatever went wrong, and the hint names the help to read.
 */
export function printUsageError(e: CommanderError, argv: readonly string[]): number {
  if (NOT_USAGE_ERRORS.has(e.code)) return e.exitCode;
  const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  // The command's help (for a group such as `audit`, it lists the subcommands and their help).
  const command = (e.code === 'commander.unknownCommand' ? words.slice(0, -1) : words).slice(0, 1).join('');
  const body = {
    error: `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.?)]$/.test(message) ? '' : '.'}`,
    code: 'USAGE',
    hint:
      command === '' ? '`hardkms --help` lists the commands.' : `\`hardkms ${command} --help\` shows how to use it.`,
  };
  process.stderr.write(`${JSON.stringify(body)}\n`);
  // Tatum KMS exits -1 on an unknown command.
  return e.code === 'commander.unknownCommand' ? 255 : EXIT_CODES.usage;
}
