import { createServer, type Server } from 'node:http';
import { InputError } from '../../errors.js';
import type { DaemonMetrics } from './metrics.js';

export interface HealthState {
  unsealed: boolean;
  tokenReachable: () => boolean;
  /** SoftHSM2: what is wrong with the token's files (truncated token.object…), or undefined when whole. */
  tokenDamage?: () => string | undefined;
  /** End of the last completed poll cycle, ms since the epoch; undefined before the first. */
  lastPollAt: number | undefined;
  lastPollOk: boolean | undefined;
  /** A poll older than this makes the daemon unhealthy. */
  maxPollAgeMs: number;
  /** The store: whether it answered its last statement (PostgreSQL; wallet.dat always does). Unhealthy while not. */
  database?: (() => { engine: string; connected: boolean; error: string | undefined }) | undefined;
  /** Pending ids this instance has claimed and not yet signed, failed or released. */
  claimsHeld?: (() => number) | undefined;
}

function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65535) {
    throw new InputError(
      `--metrics-addr '${text}' is not HOST:PORT.`,
      'Use e.g. 127.0.0.1:9464 (keep it on loopback or a private interface).',
    );
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * /healthz (200 healthy, 503 sealed or unhealthy, JSON body) and /metrics (Prometheus).
 * Neither says anything secret; both are read-only.
 */
export function startHealthServer(address: string, state: () => HealthState, metrics: DaemonMetrics): Promise<Server> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET') {
        res.writeHead(405).end();
        return;
      }
      if (req.url === '/healthz') {
        const s = state();
        const age = s.lastPollAt === undefined ? null : Date.now() - s.lastPollAt;
        let token = false;
        try {
          token = s.unsealed && s.tokenReachable();
        } catch {
          token = false;
        }
        const pollFresh = age !== null && age <= s.maxPollAgeMs;
        let damage: string | undefined;
        try {
          damage = s.tokenDamage?.();
        } catch (e) {
          damage = `cannot read the token files: ${(e as Error).message}`;
        }
        const db = s.database?.();
        const healthy =
          s.unsealed && token && damage === undefined && pollFresh && s.lastPollOk === true && db?.connected !== false;
        const body = {
          status: healthy ? 'ok' : s.unsealed ? 'unhealthy' : 'sealed',
          sealed: !s.unsealed,
          tokenReachable: token,
          tokenDamaged: damage ?? null,
          lastPollAgeSeconds: age === null ? null : Math.round(age / 100) / 10,
          lastPollOk: s.lastPollOk ?? null,
          // Several signers on one PostgreSQL store: whether this one reaches it, and its share of the work.
          database: db === undefined ? null : { engine: db.engine, connected: db.connected, error: db.error ?? null },
          claimsHeld: s.claimsHeld?.() ?? null,
        };
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
        return;
      }
      res.writeHead(404).end();
    })().catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
