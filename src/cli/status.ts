import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { WalletStore } from '../vault/store.js';
import { isStoreUrl } from '../vault/pg/url.js';
import type { Config } from '../config/config.js';
import { HardkmsError, shownText } from '../errors.js';
import { isPlainObject } from '../validate.js';
import { Token } from '../hsm/token.js';
import type { VaultFacts } from '../vault/facts.js';
import { auditLineTime } from '../audit/record-schema.js';
import { printTable } from './table.js';
import { publicCheck, tokenBackupFor } from './token.js';

/**
 * The health half of `hardkms status`: what can be checked without unsealing (no touch, no
 * login). Problems make status exit non-zero; warnings do not.
 */

interface HealthCheck {
  check: string;
  state: 'ok' | 'warning' | 'problem' | 'unknown';
  detail: string;
}

interface StatusHealth {
  ok: boolean;
  checks: HealthCheck[];
  tokenFiles: Record<string, unknown> | null;
  tokenBackups: { lastBackup: string | null; lastPinChange: string | null; backupOlderThanPinChange: boolean | null };
  walletCounts: { chain: string; net: string; count: number }[];
  daemon: Record<string, unknown> | null;
}

/** Last time of each event in the audit log (read as plain lines: this is not a verification). */
function lastEventTimes(logPath: string, events: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(logPath)) return out;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (line === '' || !events.some((e) => line.includes(`"${e}"`))) continue;
    // A torn or foreign line has no time: `audit verify` is the place that judges the log.
    const r = auditLineTime(line);
    if (r?.event !== undefined && events.includes(r.event)) out.set(r.event, r.time);
  }
  return out;
}

function walletCounts(path: string): { chain: string; net: string; count: number }[] {
  const store = isStoreUrl(path) ? WalletStore.openReadOnly(path) : undefined;
  const db = store?.database ?? new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT chain, testnet, count(*) AS n FROM wallets GROUP BY chain, testnet ORDER BY chain, testnet')
      .all() as {
      chain: string;
      testnet: number;
      n: number;
    }[];
    return rows.map((r) => ({ chain: r.chain, net: r.testnet === 1 ? 'testnet' : 'mainnet', count: r.n }));
  } finally {
    if (store) store.close();
    else db.close();
  }
}

async function daemonHealth(url: string): Promise<Record<string, unknown>> {
  const target = new URL('/healthz', url.includes('://') ? url : `http://${url}`);
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
    const body: unknown = await res.json().catch(() => null);
    // What the endpoint says about itself, never in place of what hardkms measured (url, httpStatus).
    const said = isPlainObject(body)
      ? Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'url' && k !== 'httpStatus'))
      : {};
    return { url: target.toString(), httpStatus: res.status, ...said };
  } catch (e) {
    return { url: target.toString(), httpStatus: null, error: (e as Error).message };
  }
}

export async function statusHealth(
  config: Config,
  facts: VaultFacts,
  options: { daemonUrl?: string | undefined },
): Promise<StatusHealth> {
  const checks: HealthCheck[] = [];
  const add = (check: string, state: HealthCheck['state'], detail: string) => checks.push({ check, state, detail });

  const backup = tokenBackupFor({
    ...config,
    token: {
      label: config.token.label ?? facts.binding.label,
      profile: config.token.profile ?? facts.binding.profile,
      modulePath: config.token.modulePath ?? facts.binding.modulePath,
    },
  });
  const files = backup?.check();
  if (files) {
    if (files.state === 'ok') add('token files', 'ok', `whole (${files.liveDir})`);
    else if (files.state === 'damaged')
      add(
        'token files',
        'problem',
        `${files.problems.map((p) => `${p.file}: ${p.problem}`).join('; ')}; run \`hardkms token repair\``,
      );
    else add('token files', 'problem', `no SoftHSM2 token labelled '${files.label}' in ${files.tokenDir}`);
    if (files.state === 'ok') {
      if (!files.backup)
        add('hardkms token copy', 'warning', `none yet beside ${files.tokenDir} (made at the next login)`);
      else if (files.backupCurrent === false)
        add('hardkms token copy', 'warning', 'older than the token (refreshed at the next login)');
      else add('hardkms token copy', 'ok', `verified, ${files.backup.createdAt}`);
    }
  }

  if (files?.state !== 'damaged') {
    try {
      const token = Token.open({
        modulePath: config.token.modulePath ?? facts.binding.modulePath,
        label: config.token.label ?? facts.binding.label,
        profile: config.token.profile ?? facts.binding.profile,
      });
      try {
        if (token.info.serial === facts.binding.serial)
          add('token reachable', 'ok', `'${token.info.label}' serial ${token.info.serial} (no login)`);
        else
          add(
            'token reachable',
            'problem',
            `serial ${token.info.serial}, but the vault was made with ${facts.binding.serial}`,
          );
      } finally {
        token.close();
      }
    } catch (e) {
      add('token reachable', 'problem', e instanceof HardkmsError ? `${e.code}: ${e.message}` : String(e));
    }
  }

  const times = lastEventTimes(facts.auditLogPath, ['token.backup', 'token.pin_rotated', 'token.login']);
  const lastBackup = times.get('token.backup') ?? null;
  const lastPinChange = times.get('token.pin_rotated') ?? null;
  const older =
    lastPinChange === null ? (lastBackup === null ? null : false) : lastBackup === null || lastBackup < lastPinChange;
  if (older) {
    add(
      'token backup',
      'warning',
      `${lastBackup ? `your last token backup (${lastBackup})` : 'no token backup recorded'} is older than the last PIN change (${lastPinChange}): back up the token and wallet.dat now (\`hardkms token backup --to DIR\`)`,
    );
  } else if (lastBackup) add('token backup', 'ok', `last ${lastBackup}, after the last PIN change`);
  else
    add(
      'token backup',
      'unknown',
      'none recorded by `hardkms token backup` (a copy made by other means is not seen here)',
    );

  const counts = walletCounts(config.walletPath);
  add(
    'wallets',
    'ok',
    `${counts.reduce((n, c) => n + c.count, 0)} (unverified count: rows are authenticated only when unsealed)`,
  );
  const lastUnseal = times.get('token.login');
  add('last unseal', lastUnseal ? 'ok' : 'unknown', lastUnseal ?? 'none in the audit log');
  // Every unseal checks the log's tail against this head (AUDIT_HEAD_MISMATCH otherwise): the last unseal is its last check.
  add(
    'audit head',
    facts.auditHead ? 'ok' : 'warning',
    facts.auditHead
      ? `seq ${facts.auditHead.seq}${lastUnseal ? `, last checked against the log at the unseal of ${lastUnseal}` : ''}`
      : 'none recorded',
  );

  let daemon: Record<string, unknown> | null = null;
  if (options.daemonUrl) {
    daemon = await daemonHealth(options.daemonUrl);
    const said = typeof daemon.status === 'string' ? shownText(daemon.status) : undefined;
    if (daemon.httpStatus === 200) add('daemon', 'ok', said ?? 'ok');
    else
      add(
        'daemon',
        'problem',
        daemon.httpStatus === null ? `unreachable: ${String(daemon.error)}` : (said ?? String(daemon.httpStatus)),
      );
  }

  return {
    ok: !checks.some((c) => c.state === 'problem'),
    checks,
    tokenFiles: files ? publicCheck(files) : null,
    tokenBackups: { lastBackup, lastPinChange, backupOlderThanPinChange: older },
    walletCounts: counts,
    daemon,
  };
}

export function printHealthTable(h: StatusHealth, header: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(header))
    process.stdout.write(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
  process.stdout.write('\n');
  printTable(h.checks, ['check', 'state', 'detail']);
  if (h.walletCounts.length > 0) {
    process.stdout.write('\n');
    printTable(h.walletCounts, ['chain', 'net', 'count']);
  }
}

export function unhealthyError(h: StatusHealth): HardkmsError {
  const problems = h.checks.filter((c) => c.state === 'problem');
  return new HardkmsError(
    'STATUS_UNHEALTHY',
    `${problems.length} problem(s): ${problems.map((p) => `${p.check}: ${p.detail}`).join(' | ')}`,
    {
      hint: 'Each line says what to do; `hardkms token check` and `hardkms audit verify` give the detail.',
    },
  );
}
