import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { assertTrustedTool, toolEnv } from './tool-path.js';

/**
 * Runs a YubiKey tool with an argv array (never a shell) and a hard timeout that kills
 * it. stdout is returned as a Buffer the caller wipes: for challenge-response it holds
 * the response, which is key material.
 */
export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  /** The executable was not found (ENOENT). */
  notFound: boolean;
}

interface RunToolOptions {
  timeoutMs: number;
  /** Added to the minimal tool environment (tests). */
  env?: NodeJS.ProcessEnv;
}

const KILL_GRACE_MS = 1_000;

export function runTool(file: string, args: readonly string[], opts: RunToolOptions): Promise<ToolResult> {
  if (existsSync(file) || !file.startsWith('/')) assertTrustedTool(file);
  else
    return Promise.resolve({
      code: null,
      signal: null,
      stdout: Buffer.alloc(0),
      stderr: '',
      timedOut: false,
      notFound: true,
    });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<ToolResult, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      const stdout = Buffer.concat(chunks);
      for (const c of chunks) c.fill(0);
      resolve({ ...r, stdout, stderr, timedOut });
    };
    // A minimal environment: the tool needs none of our secrets or settings. The C locale
    // keeps its messages in the English we classify.
    const child = spawn(file, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...toolEnv(), ...opts.env },
    });
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      if (stderr.length < 64 * 1024) stderr += c;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({ code: null, signal: null, notFound: err.code === 'ENOENT' });
    });
    child.on('close', (code, signal) => finish({ code, signal, notFound: false }));
  });
}

/** The tool's own error lines, for messages (stderr never carries the response). */
export function toolErrorText(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^WARNING: PC\/SC not available/.test(l));
  return lines.join(' ').slice(0, 500) || '(no message)';
}
