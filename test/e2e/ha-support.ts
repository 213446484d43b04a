/**
 * Several `hardkms daemon` processes (the built CLI) on one PostgreSQL store, one SoftHSM2
 * token directory and one Tatum-compatible test server, as an operator runs them on one
 * host: the set-up of test/e2e/ha-*.test.ts and scripts/bench/ha.
 *
 * Each daemon is a separate process with its own connection, journal claim id, token
 * session and /healthz + /metrics port. They share the audit log file (one host: appends are
 * serialized by the store's writer lock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, collectLog } from '../support/cli.js';
import { freePort } from '../../scripts/lib/ports.js';
import type { Postgres } from '../support/postgres.js';
import type { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { TEST_PASSWORD, type TestVault } from '../support/vault.js';

export interface HaDaemon {
  readonly index: number;
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  metricsPort: number;
  /** Whether the daemon logged "daemon started" (unsealed, polling). */
  started: () => boolean;
  /** Starts of this slot (1 + restarts). */
  generation: number;
}

export interface HaClusterOptions {
  pg: Postgres;
  tv: TestVault;
  api: FakeTatumApi;
  chains: string;
  /** Extra daemon flags (e.g. --claim-lease 3). */
  args?: string[];
  env?: Record<string, string>;
  /** --period in seconds. */
  period?: number;
}

/** N daemon slots; each can be killed (SIGKILL) and started again. */
export class HaCluster {
  readonly daemons: HaDaemon[] = [];
  readonly auditLog: string;
  private readonly exitedCodes: (number | null)[] = [];
  /** What each daemon that exited non-zero by itself said last (for the assertion's message). */
  readonly failures: string[] = [];

  constructor(private readonly o: HaClusterOptions) {
    this.auditLog = join(o.tv.dir, 'audit.log');
  }

  get storeUrl(): string {
    return this.o.tv.path;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...this.o.tv.token.env,
      ...this.o.pg.env,
      TATUM_KMS_PASSWORD: TEST_PASSWORD,
      TATUM_API_KEY: this.o.api.apiKey,
      TATUM_API_URL: this.o.api.url,
      HARDKMS_LOG_LEVEL: 'info',
      ...this.o.env,
    };
  }

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i++) this.daemons.push(await this.spawn(i, 1));
  }

  private async spawn(index: number, generation: number): Promise<HaDaemon> {
    const metricsPort = await freePort();
    const args = [
      CLI,
      'daemon',
      '--testnet',
      '--chain',
      this.o.chains,
      '--period',
      String(this.o.period ?? 0.5),
      '--metrics-addr',
      `127.0.0.1:${metricsPort}`,
      '--store',
      this.storeUrl,
      '--audit-log',
      this.auditLog,
      ...(this.o.args ?? []),
    ];
    const child = spawn(process.execPath, args, { env: this.env(), stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    let buf = '';
    let up = false;
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const l of parts) if (l.includes('"daemon started"')) up = true;
      lines.push(...parts);
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        const text = `${[...lines, buf].join('\n')}\n`;
        collectLog(text);
        // HARDKMS_HA_LOG_DIR: every daemon's stderr kept in a file of its own (for a failing soak).
        const keep = process.env.HARDKMS_HA_LOG_DIR;
        if (keep !== undefined) writeFileSync(join(keep, `daemon-${index}-${generation}-${child.pid}.log`), text);
        this.exitedCodes.push(code);
        if (code !== 0 && code !== null)
          this.failures.push(`daemon ${index} (start ${generation}) exited ${code}: ${lastErrors(lines)}`);
        resolve(code);
      }),
    );
    return { index, child, lines, exited, metricsPort, started: () => up, generation };
  }

  /** SIGKILLs slot `i` and starts a fresh process in it. */
  async killAndRestart(i: number): Promise<HaDaemon> {
    const d = this.daemons[i]!;
    d.child.kill('SIGKILL');
    await d.exited;
    const next = await this.spawn(i, d.generation + 1);
    this.daemons[i] = next;
    return next;
  }

  /** Exit codes of processes that ended by themselves (not by a signal of the test). */
  unexpectedExits(): number[] {
    return this.exitedCodes.filter((c): c is number => c !== null);
  }

  async health(i: number): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`http://127.0.0.1:${this.daemons[i]!.metricsPort}/healthz`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  async metrics(i: number): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.daemons[i]!.metricsPort}/metrics`)).text();
  }

  /** SIGTERM to every daemon (they seal), then waits for them. */
  async stop(): Promise<(number | null)[]> {
    for (const d of this.daemons) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
    const codes = await Promise.all(
      this.daemons.map(
        (d) =>
          new Promise<number | null>((resolve) => {
            const t = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
            void d.exited.then((c) => {
              clearTimeout(t);
              resolve(c);
            });
          }),
      ),
    );
    return codes;
  }
}

/** A Prometheus counter's value summed over its label sets (0 when absent). */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last error lines a daemon logged (its log level error, or the CLI's `{"error"…}` line). */
function lastErrors(lines: readonly string[]): string {
  return lines
    .filter((l) => l.startsWith('{"error"') || l.includes('"level":"error"'))
    .slice(-3)
    .join('\n');
}
