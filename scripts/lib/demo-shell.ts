/**
 * The demo's surroundings that are not its story: the work dir, the story on stdout and
 * everything else in demo.log, child processes (hardkms always as the built CLI, in its
 * own process), the list of secrets that must never be printed, and the clean-up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI_TIMEOUT_MS = 120_000;

/** A failed expectation of the demo: its message is the whole story (no stack trace). */
export class DemoFailure extends Error {}

export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new DemoFailure(message);
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string>;
  /** The command line as the log shows it (secrets hidden). */
  shown: string;
  timeoutMs?: number;
  input?: string;
}

export class DemoShell {
  readonly started = Date.now();
  readonly work = mkdtempSync(join(tmpdir(), 'hardkms-demo-'));
  readonly logFile = join(this.work, 'demo.log');
  /** The step under way, for the failure message. */
  step = 'start';
  /** Everything the demo knows that must never appear in its output or log. */
  private readonly secrets: string[] = [];
  /** Everything printed on stdout, for the final secret scan. */
  private readonly printed: string[] = [];
  private readonly cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
  private readonly children = new Set<ChildProcess>();
  private cleaning: Promise<void> | undefined;

  constructor(readonly keep: boolean) {}

  say(line = ''): void {
    this.printed.push(line);
    process.stdout.write(`${line}\n`);
  }

  log(text: string): void {
    appendFileSync(this.logFile, text.endsWith('\n') || text === '' ? text : `${text}\n`, { mode: 0o600 });
  }

  seconds(): string {
    return ((Date.now() - this.started) / 1000).toFixed(1);
  }

  heading(n: number, title: string): void {
    this.step = `${n}. ${title}`;
    this.say();
    this.say(`${n}. ${title}  [${this.seconds()} s]`);
    this.log(`\n===== ${this.step} (${this.seconds()} s)`);
  }

  secret(...values: string[]): void {
    this.secrets.push(...values);
  }

  /** Stopped (in reverse order) by cleanup(). */
  onCleanup(what: string, run: () => Promise<void> | void): void {
    this.cleanups.push({ what, run });
  }

  run(command: string, args: string[], options: RunOptions): Promise<Ran> {
    return new Promise((resolvePromise, reject) => {
      // cwd in the temp dir: a .env in the caller's directory must not leak into the demo.
      const child = spawn(command, args, { cwd: this.work, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.end(options.input ?? '');
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CLI_TIMEOUT_MS);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', (e) => {
        clearTimeout(timer);
        this.children.delete(child);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.children.delete(child);
        this.log(`\n$ ${options.shown}\n${stdout}${stderr}[exit ${code ?? signal}]`);
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  /** Checks that no secret the demo knows reached stdout or the log. */
  secretScan(): { checked: number; found: number } {
    const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
    const out = this.printed.join('\n');
    const found = this.secrets.filter((s) => s !== '' && (log.includes(s) || out.includes(s))).length;
    return { checked: this.secrets.length, found };
  }

  logTail(lines: number): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Stops what the demo started and removes the work dir; every caller waits for the same run. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const c of this.children) c.kill('SIGKILL');
      for (const c of this.cleanups.reverse()) {
        try {
          await c.run();
        } catch (e) {
          process.stderr.write(`demo: stopping the ${c.what} failed: ${e instanceof Error ? e.message : String(e)}\n`);
        }
      }
      if (!this.keep) rmSync(this.work, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

/** hardkms's JSON error line on stderr, if it printed one. */
export function errorOf(r: Ran): { error: string; code: string } | undefined {
  const line = r.stderr.split('\n').find((l) => l.startsWith('{"error"'));
  return line === undefined ? undefined : (JSON.parse(line) as { error: string; code: string });
}

export function json<T>(r: Ran): T {
  return JSON.parse(r.stdout) as T;
}
