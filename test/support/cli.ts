import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => unknown;
  error: () => { error: string; code: string; hint?: string };
}

/**
 * Runs the built hardkms binary as a separate process: the way operators and their
 * scripts use it. Secrets go in on stdin, never in argv.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      collectLog(stderr);
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json: () => JSON.parse(stdout),
        error: () => {
          const line = stderr.split('\n').find((l) => l.startsWith('{"error"'));
          if (!line) throw new Error(`no JSON error on stderr: ${stderr}`);
          return JSON.parse(line);
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Hands a hardkms process's stderr to the end-of-run secret scan (test/support/log-scan.ts). */
export function collectLog(text: string): void {
  const dir = process.env.HARDKMS_TEST_LOG_DIR;
  if (dir && text) appendFileSync(join(dir, `stderr-${process.pid}.log`), text);
}
