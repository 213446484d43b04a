import type { Movement } from '../signer/pipeline/policy.js';
import { isEvent } from './events.js';
import { isPlainObject } from '../value-kind.js';

/**
 * `hardkms audit withdrawals`: what was signed and broadcast, summed per day, chain, net,
 * wallet and asset, for finance and compliance ("reporting systems for withdrawals", Tatum's
 * security basics).
 *
 * The amounts come from the `sign` audit records (the daemon writes what a transaction moves
 * and its fee into the record, under the token's signature), so a verified log is the source.
 * The journal in wallet.dat, read without the vault secret (its MACs cannot be checked
 * offline), only reconciles: a signature the journal does not know, or a journaled signature
 * the log does not show, is listed; for sign records written before amounts were recorded,
 * the journal's spend ledger supplies the amount (fee included, so the fee is unknown).
 */

/** What one signed transaction moves, as its `sign` record carries it. Decimal strings in the chain's smallest unit. */
export interface WithdrawalAmounts {
  /** Per asset ('native', or the token contract / asset id): the amount leaving, fee excluded. Allowances are not withdrawals. */
  amounts: Record<string, string>;
  /** The native fee: exact for UTXO chains, the most it can cost where the fee is set at inclusion (EVM gas limit × price, TRON fee_limit, XLM). */
  fee?: string;
}

export function withdrawalAmounts(movements: readonly Movement[]): WithdrawalAmounts {
  const amounts: Record<string, bigint> = {};
  let fee: bigint | undefined;
  for (const m of movements) {
    if (m.approval === true) continue;
    if (m.fee !== undefined) fee = (fee ?? 0n) + m.fee;
    const value = m.amount - (m.fee ?? 0n);
    if (value > 0n) amounts[m.asset] = (amounts[m.asset] ?? 0n) + value;
  }
  return {
    amounts: Object.fromEntries(Object.entries(amounts).map(([a, v]) => [a, v.toString()])),
    ...(fee === undefined ? {} : { fee: fee.toString() }),
  };
}

/** An audit record as read from the log (only verified records are passed in). */
export interface LogRecord {
  seq: number;
  time: string;
  event: string;
  result: string;
  subject: string;
  details: Record<string, unknown>;
}

export interface JournalFact {
  pendingId: string;
  chain: string;
  state: string;
  rawTxHash: string | undefined;
  updated: string;
}

export interface SpendFact {
  pendingId: string;
  testnet: boolean;
  scope: string;
  asset: string;
  amount: string;
}

interface WithdrawalsInput {
  records: readonly LogRecord[];
  /** undefined: no wallet.dat beside the log (the auditor has the log only). */
  journal: readonly JournalFact[] | undefined;
  spends: readonly SpendFact[];
  /** Inclusive UTC days, YYYY-MM-DD. */
  from: string;
  to: string;
}

/** '*' in `wallet`: the chain's total, each transaction counted once (a transaction signed by several wallets counts in full for each). */
const ALL_WALLETS = '*';

export interface WithdrawalRow {
  day: string;
  chain: string;
  net: 'mainnet' | 'testnet' | 'unknown';
  wallet: string;
  asset: string;
  signed: number;
  signedAmount: string;
  signedFees: string;
  broadcast: number;
  broadcastAmount: string;
  broadcastFees: string;
  /** Transactions in this row whose fee is not known (records written before fees were). */
  feesUnknown: number;
}

interface WithdrawalsReport {
  from: string;
  to: string;
  rows: WithdrawalRow[];
  transactions: { signed: number; broadcast: number };
  reconciliation: {
    /** Signed in the log, unknown to the journal (another store, or a restored older wallet.dat). */
    signedNotInJournal: string[];
    /** Signed per the journal (raw transaction kept), with no sign record in the log. */
    journalNotInLog: string[];
    /** Sign records without amounts (older hardkms), summed from the journal's spend ledger. */
    amountsFromJournal: string[];
    /** Sign records without amounts and without spend rows (a released transaction's are removed). */
    amountsUnknown: string[];
    journalRead: boolean;
  };
}

interface Signature {
  pendingId: string;
  chain: string;
  net: WithdrawalRow['net'];
  wallets: string[];
  amounts: Record<string, bigint>;
  fee: bigint | undefined;
  broadcast: boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function decimal(v: unknown): bigint | undefined {
  return typeof v === 'string' && /^\d{1,80}$/.test(v) ? BigInt(v) : undefined;
}

export function buildWithdrawals(input: WithdrawalsInput): WithdrawalsReport {
  const { from, to } = input;
  const inRange = (day: string): boolean => day >= from && day <= to;
  const rows = new Map<string, WithdrawalRow>();
  const row = (day: string, s: Signature, wallet: string, asset: string): WithdrawalRow => {
    const key = JSON.stringify([day, s.chain, s.net, wallet, asset]);
    let r = rows.get(key);
    if (r === undefined) {
      r = {
        day,
        chain: s.chain,
        net: s.net,
        wallet,
        asset,
        signed: 0,
        signedAmount: '0',
        signedFees: '0',
        broadcast: 0,
        broadcastAmount: '0',
        broadcastFees: '0',
        feesUnknown: 0,
      };
      rows.set(key, r);
    }
    return r;
  };
  const add = (a: string, b: bigint): string => (BigInt(a) + b).toString();
  const count = (day: string, s: Signature, what: 'signed' | 'broadcast'): void => {
    const assets = new Set([...Object.keys(s.amounts), 'native']);
    for (const wallet of [ALL_WALLETS, ...s.wallets]) {
      for (const asset of assets) {
        const r = row(day, s, wallet, asset);
        const amount = s.amounts[asset] ?? 0n;
        const fee = asset === 'native' ? s.fee : 0n;
        if (what === 'signed') {
          r.signed += 1;
          r.signedAmount = add(r.signedAmount, amount);
          if (fee !== undefined) r.signedFees = add(r.signedFees, fee);
        } else {
          r.broadcast += 1;
          r.broadcastAmount = add(r.broadcastAmount, amount);
          if (fee !== undefined) r.broadcastFees = add(r.broadcastFees, fee);
        }
        if (fee === undefined && what === 'signed') r.feesUnknown += 1;
      }
    }
  };

  const spendsOf = new Map<string, SpendFact[]>();
  for (const sp of input.spends) spendsOf.set(sp.pendingId, [...(spendsOf.get(sp.pendingId) ?? []), sp]);
  const journal = new Map((input.journal ?? []).map((j) => [j.pendingId, j]));
  const latest = new Map<string, Signature>();
  const seenInLog = new Set<string>();
  const rec: WithdrawalsReport['reconciliation'] = {
    signedNotInJournal: [],
    journalNotInLog: [],
    amountsFromJournal: [],
    amountsUnknown: [],
    journalRead: input.journal !== undefined,
  };
  let signedCount = 0;
  let broadcastCount = 0;

  for (const r of input.records) {
    if (r.result !== 'ok' || (!isEvent(r.event, 'sign') && !isEvent(r.event, 'broadcast'))) continue;
    const d = r.details;
    const pendingId = str(d.pendingId) ?? str(r.subject);
    const chain = str(d.chain);
    if (pendingId === undefined || chain === undefined) continue;
    const day = r.time.slice(0, 10);
    if (isEvent(r.event, 'sign')) {
      seenInLog.add(pendingId);
      const spends = spendsOf.get(pendingId) ?? [];
      const amounts: Record<string, bigint> = {};
      let fee: bigint | undefined;
      const recorded = isPlainObject(d.amounts) ? d.amounts : undefined;
      if (recorded !== undefined) {
        for (const [asset, v] of Object.entries(recorded)) {
          const n = decimal(v);
          if (n !== undefined) amounts[asset] = n;
        }
        fee = decimal(d.fee);
      } else if (inRange(day)) {
        const chainRows = spends.filter((sp) => sp.scope === 'chain');
        for (const sp of chainRows) amounts[sp.asset] = (amounts[sp.asset] ?? 0n) + (decimal(sp.amount) ?? 0n);
        (chainRows.length > 0 ? rec.amountsFromJournal : rec.amountsUnknown).push(pendingId);
      }
      const net: WithdrawalRow['net'] =
        typeof d.testnet === 'boolean'
          ? d.testnet
            ? 'testnet'
            : 'mainnet'
          : spends[0]
            ? spends[0].testnet
              ? 'testnet'
              : 'mainnet'
            : 'unknown';
      const wallets = Array.isArray(d.signatureIds)
        ? d.signatureIds.filter((x): x is string => typeof x === 'string')
        : [];
      const s: Signature = { pendingId, chain, net, wallets: [...new Set(wallets)], amounts, fee, broadcast: false };
      latest.set(pendingId, s);
      if (inRange(day)) {
        signedCount += 1;
        count(day, s, 'signed');
        if (input.journal !== undefined && !journal.has(pendingId)) rec.signedNotInJournal.push(pendingId);
      }
    } else {
      // The first accepted broadcast of a signature counts; re-sends of the same bytes do not.
      const s = latest.get(pendingId);
      if (s === undefined || s.broadcast) continue;
      s.broadcast = true;
      if (inRange(day)) {
        broadcastCount += 1;
        count(day, s, 'broadcast');
      }
    }
  }
  for (const j of journal.values()) {
    if (j.rawTxHash !== undefined && inRange(j.updated.slice(0, 10)) && !seenInLog.has(j.pendingId))
      rec.journalNotInLog.push(j.pendingId);
  }

  const order = (r: WithdrawalRow): string =>
    JSON.stringify([r.day, r.chain, r.net, r.wallet === ALL_WALLETS ? '' : r.wallet, r.asset]);
  return {
    from,
    to,
    rows: [...rows.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)),
    transactions: { signed: signedCount, broadcast: broadcastCount },
    reconciliation: rec,
  };
}

const CSV_COLUMNS: readonly (keyof WithdrawalRow)[] = [
  'day',
  'chain',
  'net',
  'wallet',
  'asset',
  'signed',
  'signedAmount',
  'signedFees',
  'broadcast',
  'broadcastAmount',
  'broadcastFees',
  'feesUnknown',
];

/** RFC 4180: a field with a comma, quote or line break is quoted; a leading =+-@ is prefixed so a spreadsheet does not run it. */
function csvField(v: string | number): string {
  let s = String(v);
  if (/^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function withdrawalsCsv(report: WithdrawalsReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of report.rows) lines.push(CSV_COLUMNS.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
