import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HardkmsError } from '../errors.js';
import { auditPublicKeyPath, type AuditHead } from '../audit/log.js';
import type { Config } from '../config/config.js';
import type { AuditRecord } from '../audit/record.js';
import { buildAuditReport } from '../audit/report.js';
import { renderAuditReportHtml } from '../audit/report-html.js';
import { describeProblem, verifyAuditLog } from '../audit/verify.js';
import { readVaultFacts } from '../vault/vault.js';
import { configFrom } from './context.js';
import { globalFlags } from './flags.js';
import { printJson } from './output.js';

/**
 * The log, the audit public key and the head kept in wallet.dat. The head is read before
 * the log, so records appended meanwhile cannot look like truncation.
 */
function auditInputs(config: Config, pubkey: string | undefined): { logPath: string; publicKeyPem: string; head: AuditHead | undefined } {
  const logPath = config.auditLogPath;
  if (!existsSync(logPath)) {
    throw new HardkmsError('AUDIT_LOG_MISSING', `No audit log at ${logPath}.`, { hint: 'Pass --audit-log, or --path of the wallet store it belongs to.' });
  }
  const pemPath = pubkey ?? auditPublicKeyPath(logPath);
  if (!existsSync(pemPath)) {
    throw new HardkmsError('AUDIT_PUBKEY_MISSING', `No audit public key at ${pemPath}.`, { hint: 'Pass --pubkey with the PEM exported at init.' });
  }
  const head = existsSync(config.walletPath) ? readVaultFacts({ path: config.walletPath, auditLogPath: logPath }).auditHead : undefined;
  return { logPath, publicKeyPem: readFileSync(pemPath, 'utf8'), head };
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Verify and read the tamper-evident audit log');

  globalFlags(
    audit
      .command('verify')
      .description('Verify the audit log offline: hash chain, token signatures, and the head recorded in wallet.dat')
      .option('--pubkey <pem>', 'audit public key PEM (default audit.pub.pem beside the log)'),
  ).action((opts: { pubkey?: string; path?: string; auditLog?: string; envFile?: string }) => {
    const { logPath, publicKeyPem, head } = auditInputs(configFrom(opts), opts.pubkey);
    const result = verifyAuditLog(logPath, { publicKeyPem, head });
    printJson({
      ok: result.ok,
      log: logPath,
      records: result.records,
      signed: result.signed,
      unsignedTail: result.unsignedTail,
      headChecked: head !== undefined,
      ...(result.firstProblem ? { firstBadRecord: result.firstProblem.seq, problem: describeProblem(result.firstProblem) } : {}),
    });
    if (!result.ok) {
      throw new HardkmsError('AUDIT_VERIFY_FAILED', `Audit log verification failed at ${describeProblem(result.firstProblem!)}.`, {
        hint: 'Treat every record from this one on as untrusted, and compare with your off-host copy of the log.',
      });
    }
  });

  globalFlags(
    audit
      .command('report')
      .description('Auditor report: verification status of every record, unseal ceremonies, signatures, broadcasts and anomalies')
      .option('--html <file>', 'write one self-contained HTML page')
      .option('--json', 'print the whole report model as JSON instead of the summary')
      .option('--pubkey <pem>', 'audit public key PEM (default audit.pub.pem beside the log)'),
  ).action((opts: { html?: string; json?: boolean; pubkey?: string; path?: string; auditLog?: string; envFile?: string }) => {
    const { logPath, publicKeyPem, head } = auditInputs(configFrom(opts), opts.pubkey);
    const report = buildAuditReport({ logPath, publicKeyPem, head });
    if (opts.html) {
      const tmp = `${opts.html}.tmp-${process.pid}`;
      writeFileSync(tmp, renderAuditReportHtml(report), { mode: 0o644 });
      chmodSync(tmp, 0o644);
      renameSync(tmp, opts.html);
    }
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
    if (!v.ok) {
      throw new HardkmsError('AUDIT_VERIFY_FAILED', `Audit log verification failed at ${v.firstProblem?.text ?? 'an unknown record'}.`, {
        hint: `${opts.html ? `The report in ${opts.html} marks the failing record. ` : ''}Treat every record from it on as untrusted, and compare with your off-host copy of the log.`,
      });
    }
  });

  globalFlags(
    audit
      .command('show')
      .description('Print audit records')
      .option('--last <n>', 'only the last n records')
      .option('--event <name>', 'only records of this event')
      .option('--json', 'one JSON record per line instead of a table'),
  ).action((opts: { last?: string; event?: string; json?: boolean; path?: string; auditLog?: string; envFile?: string }) => {
    const config = configFrom(opts);
    if (!existsSync(config.auditLogPath)) {
      throw new HardkmsError('AUDIT_LOG_MISSING', `No audit log at ${config.auditLogPath}.`, { hint: 'Pass --audit-log or --path.' });
    }
    let records = readFileSync(config.auditLogPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditRecord);
    if (opts.event) records = records.filter((r) => r.event === opts.event);
    if (opts.last !== undefined) {
      const n = Number(opts.last);
      if (!Number.isInteger(n) || n < 1) throw new HardkmsError('INVALID_INPUT', `--last must be a positive whole number, not '${opts.last}'.`);
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
  });
}
