import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HardkmsError, InputError } from '../errors.js';
import { auditPublicKeyPath, type AuditHead } from '../audit/log.js';
import type { Config } from '../config/config.js';
import type { AuditRecord } from '../audit/record.js';
import { parseAuditLine } from '../audit/record-schema.js';
import { buildAuditReport } from '../audit/report.js';
import { renderAuditReport } from '../audit/report-html.js';
import { writeReportFiles } from '../audit/report-files.js';
import { compareFiles } from '../audit/against.js';
import { describeProblem, parseHead, verifyAuditLog, verifyAuditText } from '../audit/verify.js';
import {
  buildWithdrawals,
  isDay,
  withdrawalsCsv,
  type JournalFact,
  type LogRecord,
  type SpendFact,
} from '../audit/withdrawals.js';
import { WalletStore } from '../vault/store.js';
import { readVaultFacts } from '../vault/facts.js';
import { syncStoredTrail } from '../vault/audit-binding.js';
import { exportAuditTrail } from '../vault/audit-export.js';
import { configFrom } from './context.js';
import { globalFlags } from './flags.js';
import { printJson, warn } from './output.js';

interface AuditInputs {
  logPath: string;
  publicKeyPem: string;
  head: AuditHead | undefined;
  notedHead: AuditHead | undefined;
  fingerprint: string | undefined;
  /** Where the key came from, said in the output: the auditor's own copy, or the file beside the log. */
  keySource: 'fingerprint' | 'pubkey' | 'beside-log';
}

interface AuditFlags {
  against?: string;
  pubkey?: string;
  fingerprint?: string;
  head?: string;
}

/**
 * The log, the audit public key and the head kept in wallet.dat. The head is read before
 * the log, so records appended meanwhile cannot look like truncation.
 */
function auditInputs(config: Config, flags: AuditFlags): AuditInputs {
  const logPath = config.auditLogPath;
  // A PostgreSQL store: its trail (every instance's records) is the record; this host's copy is brought up to date first.
  syncStoredTrail({ path: config.walletPath, auditLogPath: logPath });
  if (!existsSync(logPath)) {
    throw new HardkmsError('AUDIT_LOG_MISSING', `No audit log at ${logPath}.`, {
      hint: 'Pass --audit-log, or --path of the wallet store it belongs to.',
    });
  }
  const pemPath = flags.pubkey ?? auditPublicKeyPath(logPath);
  if (!existsSync(pemPath)) {
    throw new HardkmsError('AUDIT_PUBKEY_MISSING', `No audit public key at ${pemPath}.`, {
      hint: 'Pass --pubkey with the PEM exported at init.',
    });
  }
  let fingerprint = flags.fingerprint?.trim().toLowerCase();
  if (fingerprint !== undefined && !/^[0-9a-f]{64}$/.test(fingerprint.replace(/:/g, ''))) {
    throw new InputError(
      `--fingerprint '${flags.fingerprint}' is not a SHA-256 fingerprint (64 hex digits).`,
      'Pass the auditKeyFingerprint that init printed.',
    );
  }
  fingerprint = fingerprint?.replace(/:/g, '');
  const facts = WalletStore.exists(config.walletPath)
    ? readVaultFacts({ path: config.walletPath, auditLogPath: logPath })
    : undefined;
  return {
    logPath,
    publicKeyPem: readFileSync(pemPath, 'utf8'),
    head: facts?.auditHead,
    notedHead: flags.head === undefined ? undefined : parseHead(flags.head),
    // Without a copy of their own, at least the key must be the one wallet.dat names
    // (which only hardkms can authenticate: an attacker may have rewritten both).
    fingerprint: fingerprint ?? (flags.pubkey === undefined ? facts?.binding.auditKeyFingerprint : undefined),
    keySource: fingerprint !== undefined ? 'fingerprint' : flags.pubkey !== undefined ? 'pubkey' : 'beside-log',
  };
}

function readable(path: string): string {
  if (!existsSync(path))
    throw new InputError(
      `No forwarded copy at ${path}.`,
      "Pass --against with the file your sink wrote (e.g. rsyslog's output file).",
    );
  return path;
}

function trustNote(inputs: AuditInputs): void {
  if (inputs.keySource !== 'beside-log') return;
  warn(
    `audit verify trusted the audit public key beside the log (${auditPublicKeyPath(inputs.logPath)}). Anyone who can write that folder can replace it; pass --fingerprint (printed at init) or --pubkey with your own copy.`,
  );
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Verify and read the tamper-evident audit log');

  globalFlags(
    audit
      .command('export')
      .description(
        "Write the vault's one audit trail to a new file for `audit verify` offline: a PostgreSQL store's (every signer's records, one chain), or audit.log beside wallet.dat",
      )
      .requiredOption('--out <file>', 'the file to write (a new audit.log; the audit public key is written beside it)'),
  ).action((opts: { out: string; path?: string; auditLog?: string; envFile?: string }) => {
    const config = configFrom(opts);
    const { lastLineProblem: bad, ...result } = exportAuditTrail(
      { path: config.walletPath, auditLogPath: config.auditLogPath },
      opts.out,
    );
    if (bad !== undefined)
      warn(
        `The last line (${bad.line}) of ${bad.where} is not an audit record: ${bad.problem}. It is exported as it is, with no head; run \`hardkms audit verify\` on the export to see what is damaged.`,
      );
    printJson(result);
  });

  globalFlags(
    audit
      .command('verify')
      .description('Verify the audit log offline: hash chain, token signatures, and the head recorded in wallet.dat')
      .option('--pubkey <pem>', 'audit public key PEM (default audit.pub.pem beside the log)')
      .option(
        '--fingerprint <hex>',
        'SHA-256 fingerprint of the audit public key, as init printed it: the key must be that one',
      )
      .option('--head <seq:hash>', 'a head you noted earlier (printed by this command): the log must still contain it')
      .option(
        '--against <file>',
        'a copy forwarded off-host (--audit-forward): names the first record where the local log differs',
      ),
  ).action((opts: AuditFlags & { path?: string; auditLog?: string; envFile?: string }) => {
    const inputs = auditInputs(configFrom(opts), opts);
    const { logPath, head } = inputs;
    const result = verifyAuditLog(logPath, inputs);
    trustNote(inputs);
    const against = opts.against === undefined ? undefined : compareFiles(logPath, readable(opts.against));
    printJson({
      ok: result.ok && against?.ok !== false,
      log: logPath,
      records: result.records,
      signed: result.signed,
      unsignedTail: result.unsignedTail,
      head: `${result.lastSeq}:${result.lastHash}`,
      keyFingerprint: result.keyFingerprint,
      key:
        inputs.keySource === 'beside-log'
          ? 'trusted: the file beside the log'
          : inputs.keySource === 'pubkey'
            ? 'your --pubkey'
            : 'checked against your --fingerprint',
      headChecked: head !== undefined,
      // The head in wallet.dat is authenticated under the vault secret, checked at every
      // unseal; offline only --head or a forwarded copy vouch for it.
      notedHeadChecked: inputs.notedHead !== undefined,
      ...(against
        ? {
            against: {
              file: opts.against,
              ok: against.ok,
              matched: against.matched,
              notForwarded: against.notForwarded,
              ...(against.firstDivergence
                ? { firstDivergence: against.firstDivergence.seq, problem: against.firstDivergence.problem }
                : {}),
            },
          }
        : {}),
      ...(result.firstProblem
        ? { firstBadRecord: result.firstProblem.seq, problem: describeProblem(result.firstProblem) }
        : {}),
    });
    if (!result.ok) {
      throw new HardkmsError(
        'AUDIT_VERIFY_FAILED',
        `Audit log verification failed at ${describeProblem(result.firstProblem!)}.`,
        {
          hint: 'Treat every record from this one on as untrusted, and compare with your off-host copy of the log.',
        },
      );
    }
    if (against?.firstDivergence) {
      throw new HardkmsError(
        'AUDIT_FORWARDED_DIVERGES',
        `The local log and the forwarded copy diverge at record ${against.firstDivergence.seq}: ${against.firstDivergence.problem}.`,
        {
          hint: 'The forwarded copy is what the host could not rewrite: treat the local log from that record on as untrusted.',
        },
      );
    }
  });

  globalFlags(
    audit
      .command('report')
      .description(
        'Auditor report: verification status of every record, unseal ceremonies, signatures, broadcasts and anomalies',
      )
      .option('--html <file>', 'write one self-contained HTML page')
      .option('--json', 'print the whole report model as JSON instead of the summary')
      .option('--pubkey <pem>', 'audit public key PEM (default audit.pub.pem beside the log)')
      .option('--fingerprint <hex>', 'SHA-256 fingerprint of the audit public key, as init printed it')
      .option('--head <seq:hash>', 'a head you noted earlier: the log must still contain it'),
  ).action(
    (opts: AuditFlags & { html?: string; json?: boolean; path?: string; auditLog?: string; envFile?: string }) => {
      const inputs = auditInputs(configFrom(opts), opts);
      const { logPath } = inputs;
      trustNote(inputs);
      const report = buildAuditReport(inputs);
      if (opts.html) writeReportFiles(opts.html, renderAuditReport(report, { indexName: opts.html }));
      const v = report.verification;
      if (opts.json) {
        printJson(report);
      } else {
        printJson({
          ok: v.ok,
          log: logPath,
          ...(opts.html ? { html: opts.html } : {}),
          records: report.counts.records,
          signed: report.counts.signed,
          unsignedTail: report.counts.unsignedTail,
          headChecked: v.headChecked,
          ceremonies: report.counts.ceremonies,
          signatures: report.counts.signatures,
          unwraps: report.counts.unwraps,
          broadcasts: report.counts.broadcasts,
          anomalies: { critical: report.counts.critical, warning: report.counts.warning, info: report.counts.info },
          ...(v.firstProblem ? { firstBadRecord: v.firstProblem.seq, problem: v.firstProblem.text } : {}),
        });
      }
      if (!v.ok && v.firstProblem?.kind !== 'unsigned-tail') {
        throw new HardkmsError(
          'AUDIT_VERIFY_FAILED',
          `Audit log verification failed at ${v.firstProblem?.text ?? 'an unknown record'}.`,
          {
            hint: `${opts.html ? `The report in ${opts.html} marks the failing record. ` : ''}Treat every record from it on as untrusted, and compare with your off-host copy of the log.`,
          },
        );
      }
      if (report.counts.critical > 0) {
        throw new HardkmsError(
          'AUDIT_CRITICAL_ANOMALY',
          `The audit report found ${report.counts.critical} critical anomal${report.counts.critical === 1 ? 'y' : 'ies'}.`,
          {
            hint: `${opts.html ? `Open ${opts.html}: ` : 'Run with --html or --json: '}the anomalies list names each record to look at.`,
          },
        );
      }
    },
  );

  globalFlags(
    audit
      .command('show')
      .description('Print audit records')
      .option('--last <n>', 'only the last n records')
      .option('--event <name>', 'only records of this event')
      .option('--json', 'one JSON record per line instead of a table'),
  ).action(
    (opts: { last?: string; event?: string; json?: boolean; path?: string; auditLog?: string; envFile?: string }) => {
      const config = configFrom(opts);
      if (!existsSync(config.auditLogPath)) {
        throw new HardkmsError('AUDIT_LOG_MISSING', `No audit log at ${config.auditLogPath}.`, {
          hint: 'Pass --audit-log or --path.',
        });
      }
      let records = readFileSync(config.auditLogPath, 'utf8')
        .split('\n')
        .map((l, i) => ({ l, n: i + 1 }))
        .filter(({ l }) => l.trim() !== '')
        .map(({ l, n }) => recordOrThrow(l, n, config.auditLogPath));
      if (opts.event) records = records.filter((r) => r.event === opts.event);
      if (opts.last !== undefined) {
        const n = Number(opts.last);
        if (!Number.isInteger(n) || n < 1)
          throw new InputError(`--last must be a positive whole number, not '${opts.last}'.`);
        records = records.slice(-n);
      }
      for (const r of records) {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
        } else {
          const details = Object.keys(r.details).length ? ` ${JSON.stringify(r.details)}` : '';
          process.stdout.write(
            `${String(r.seq).padStart(6)} ${r.time} ${r.result.padEnd(6)} ${r.event} ${r.subject} by ${r.actor}${r.sig ? '' : ' (unsigned: written while sealed)'}${details}\n`,
          );
        }
      }
    },
  );

  globalFlags(
    audit
      .command('withdrawals')
      .description(
        'Sum signed and broadcast amounts and fees per day, chain, wallet and asset, from the verified audit log and the journal (read-only)',
      )
      .requiredOption('--from <day>', 'first day, YYYY-MM-DD (UTC)')
      .requiredOption('--to <day>', 'last day, YYYY-MM-DD (UTC), included')
      .option('--format <format>', 'json or csv', 'json')
      .option('--pubkey <pem>', 'audit public key PEM (default audit.pub.pem beside the log)')
      .option('--fingerprint <hex>', 'SHA-256 fingerprint of the audit public key, as init printed it')
      .option('--head <seq:hash>', 'a head you noted earlier: the log must still contain it'),
  ).action(
    (
      opts: AuditFlags & {
        from: string;
        to: string;
        format: string;
        path?: string;
        auditLog?: string;
        envFile?: string;
      },
    ) => {
      for (const [flag, v] of [
        ['--from', opts.from],
        ['--to', opts.to],
      ] as const) {
        if (!isDay(v))
          throw new InputError(
            `${flag} '${v}' is not a day written YYYY-MM-DD.`,
            'E.g. --from 2026-11-01 --to 2026-11-30 (UTC days, both included).',
          );
      }
      if (opts.from > opts.to)
        throw new InputError(`--from ${opts.from} is after --to ${opts.to}.`, 'Give the earlier day first.');
      if (opts.format !== 'json' && opts.format !== 'csv')
        throw new InputError(`--format '${opts.format}' is neither json nor csv.`);
      const config = configFrom(opts);
      const inputs = auditInputs(config, opts);
      trustNote(inputs);
      // The bytes verified are the bytes summed (a running daemon may append meanwhile).
      const logText = readFileSync(inputs.logPath, 'utf8');
      const v = verifyAuditText(logText, inputs);
      if (!v.ok && v.firstProblem?.fault !== 'unsigned-tail') {
        throw new HardkmsError(
          'AUDIT_VERIFY_FAILED',
          `Audit log verification failed at ${describeProblem(v.firstProblem!)}; no withdrawals are summed from it.`,
          {
            hint: 'Run `hardkms audit report --html FILE` to see the failing record, and compare with your off-host copy of the log.',
          },
        );
      }
      const records: LogRecord[] = [];
      for (const line of logText.split('\n')) {
        if (line === '') continue;
        // Verified up to lastSeq; what follows (an unsigned tail, a torn last line) is not summed.
        const r = parseAuditLine(line).record;
        if (r === undefined || r.seq > v.lastSeq) break;
        records.push(r);
      }
      const { journal, spends } = journalFacts(config.walletPath);
      const report = buildWithdrawals({ records, journal, spends, from: opts.from, to: opts.to });
      const rec = report.reconciliation;
      if (!rec.journalRead)
        warn(
          `no wallet.dat at ${config.walletPath}: summed from the audit log alone, nothing reconciled against the journal.`,
        );
      for (const [list, what] of [
        [rec.signedNotInJournal, 'signed per the audit log, unknown to the journal'],
        [rec.journalNotInLog, 'signed per the journal, with no sign record in the audit log'],
        [rec.amountsUnknown, 'signed by an older hardkms and without spend rows: amounts unknown'],
      ] as const) {
        if (list.length > 0)
          warn(
            `${list.length} transaction(s) ${what}: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`,
          );
      }
      if (opts.format === 'csv') process.stdout.write(withdrawalsCsv(report));
      else
        printJson({
          ...report,
          log: inputs.logPath,
          verified: { records: v.records, head: `${v.lastSeq}:${v.lastHash}`, unsignedTail: v.unsignedTail },
          units:
            "amounts and fees in the chain's smallest unit (satoshi, wei, sun, drops, stroops, microalgo); token amounts in the token's base units",
          fees: 'exact for UTXO chains; elsewhere the most the transaction could cost (EVM gas limit × price, TRON fee_limit, XLM max fee)',
        });
    },
  );
}

/** The journal and its spend ledger, read without writing anything (an auditor's copy); none when there is no wallet.dat. */
function journalFacts(path: string): { journal: JournalFact[] | undefined; spends: SpendFact[] } {
  if (!existsSync(path)) return { journal: undefined, spends: [] };
  const store = WalletStore.openReadOnly(path);
  try {
    const db = store.database;
    const journal = (
      db.prepare('SELECT pending_id, chain, state, raw_tx_hash, updated FROM journal').all() as {
        pending_id: string;
        chain: string;
        state: string;
        raw_tx_hash: string | null;
        updated: string;
      }[]
    ).map((j) => ({
      pendingId: j.pending_id,
      chain: j.chain,
      state: j.state,
      rawTxHash: j.raw_tx_hash ?? undefined,
      updated: j.updated,
    }));
    const spends = (
      db.prepare('SELECT pending_id, testnet, scope, asset, amount FROM journal_spend').all() as {
        pending_id: string;
        testnet: number;
        scope: string;
        asset: string;
        amount: string;
      }[]
    ).map((sp) => ({
      pendingId: sp.pending_id,
      testnet: sp.testnet === 1,
      scope: sp.scope,
      asset: sp.asset,
      amount: sp.amount,
    }));
    return { journal, spends };
  } finally {
    store.close();
  }
}

/** `audit show` prints records; a line that is none is named, not thrown as a SyntaxError. */
function recordOrThrow(line: string, n: number, path: string): AuditRecord {
  const { record, problem } = parseAuditLine(line);
  if (record !== undefined) return record;
  throw new HardkmsError('AUDIT_LOG_CORRUPT', `Line ${n} of ${path} is not an audit record: ${problem}.`, {
    hint: 'Run `hardkms audit verify` to check the whole log, and `hardkms audit report --html FILE` to see the line.',
  });
}
