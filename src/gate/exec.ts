import { spawn } from 'node:child_process';

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

export interface RunToolOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

const KILL_GRACE_MS = 1_000;

export function runTool(file: string, args: readonly string[], opts: RunToolOptions): Promise<ToolResult> {
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
    // C locale keeps the tools' messages in the English we classify.
    const child = spawn(file, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(opts.env ?? process.env), LC_ALL: 'C', LANG: 'C' },
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
