import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Anomaly, AuditReport, Ceremony, Operation, RecordStatus, ReportRecord } from './report-model.js';

/**
 * One self-contained page: inline CSS, no script, no external resource. Every value
 * from the log is escaped (records are attacker-controlled input), invisible and
 * direction-changing characters are shown as code points so a record cannot disguise
 * itself, and a Content-Security-Policy allows nothing but the page's own stylesheet, so
 * even an escaping mistake could not run a script or load anything.
 */
/** Above this many rows a section is split into pages of its own (a 100,000-record log must open quickly). */
const REPORT_PAGE_SIZE = 2000;

export interface RenderedReport {
  /** The page to open: verdict, summary, anomalies, and the sections or links to their pages. */
  index: string;
  /** Files to write beside the index, by name. */
  pages: Array<{ name: string; html: string }>;
}

/** Where a record's row is: a fragment of this page, or a fragment of one of the record pages. */
interface Links {
  record(line: number): string;
}

/**
 * Self-contained pages: inline CSS, no script, no external resource. Every value
 * from the log is escaped (records are attacker-controlled input), invisible and
 * direction-changing characters are shown as code points so a record cannot disguise
 * itself, and a Content-Security-Policy allows nothing but the page's own stylesheet, so
 * even an escaping mistake could not run a script or load anything.
 *
 * The report as an index page plus, for a long log, pages of at most `pageSize` rows per
 * section (records, operations, administration, ceremonies), named after `indexName`
 * (report.html → report.records-1.html, …) and linked both ways. Paging is static (the
 * pages allow no script), so each page is as safe to open as the index.
 */
export function renderAuditReport(
  report: AuditReport,
  options: { indexName: string; pageSize?: number },
): RenderedReport {
  const pageSize = options.pageSize ?? REPORT_PAGE_SIZE;
  const stem = basename(options.indexName).replace(/\.html?$/i, '');
  const indexHref = basename(options.indexName);
  const pageName = (section: string, k: number): string => `${stem}.${section}-${k}.html`;
  const paged = report.records.length > pageSize;
  const pageOfLine = new Map<number, number>();
  if (paged) report.records.forEach((r, i) => pageOfLine.set(r.line, Math.floor(i / pageSize) + 1));
  const links: Links = {
    record: (line) =>
      paged && pageOfLine.has(line) ? `${pageName('records', pageOfLine.get(line)!)}#line-${line}` : `#line-${line}`,
  };
  const v = report.verification;
  const failedAt = v.firstProblem?.seq ?? v.firstProblem?.line;
  const title = v.ok
    ? 'VERIFIED'
    : `FAILED at ${v.firstProblem?.seq !== null && v.firstProblem?.seq !== undefined ? 'record' : 'line'} ${failedAt ?? '?'}`;
  const pages: RenderedReport['pages'] = [];
  const section = (name: string, heading: string, table: Table): string => {
    if (table.rows.length <= pageSize) return table.section(table.rows);
    const count = Math.ceil(table.rows.length / pageSize);
    const items: string[] = [];
    for (let k = 1; k <= count; k++) {
      const rows = table.rows.slice((k - 1) * pageSize, k * pageSize);
      const range = `${table.label(rows[0]!.item)} to ${table.label(rows[rows.length - 1]!.item)}`;
      const nav = [
        `<a href="${attr(indexHref)}" data-testid="page-index">report</a>`,
        k > 1 ? `<a href="${attr(pageName(name, k - 1))}" rel="prev">previous</a>` : '',
        k < count ? `<a href="${attr(pageName(name, k + 1))}" rel="next">next</a>` : '',
      ]
        .filter(Boolean)
        .join(' · ');
      pages.push({
        name: pageName(name, k),
        html: page(`${title}: ${heading}, page ${k} of ${count}`, [
          `<nav data-testid="page-nav">${nav}</nav>`,
          `<h1>${esc(heading)}: page ${esc(k)} of ${esc(count)} (${esc(range)})</h1>`,
          table.section(rows),
        ]),
      });
      items.push(
        `<li><a href="${attr(pageName(name, k))}" data-testid="page-link">page ${esc(k)}</a>: ${esc(range)}</li>`,
      );
    }
    return [
      `<section data-testid="${attr(name)}-pages">`,
      `<h2>${esc(heading)} (${esc(table.rows.length)})</h2>`,
      `<p class="hint">${esc(count)} pages of ${esc(pageSize)} rows:</p>`,
      `<ol class="pages">${items.join('')}</ol>`,
      table.extra ?? '',
      '</section>',
    ].join('\n');
  };
  const index = page(title, [
    header(report),
    verdict(report, title),
    summary(report),
    anomalies(report.anomalies, links),
    section('ceremonies', 'Unseal ceremonies and sessions', ceremonies(report.ceremonies, links)),
    section('operations', 'Unwraps, signatures, approvals and broadcasts', operations(report.operations, links)),
    report.admin.length ? section('admin', 'Administration', admin(report, links)) : '',
    section('records', 'Every record', records(report.records, links)),
    legend(),
  ]);
  return { index, pages };
}

/** A section's rows, rendered once, and how to wrap any slice of them in the section's table. */
interface Table {
  rows: Array<{ html: string; item: unknown }>;
  section(rows: Array<{ html: string }>): string;
  /** How a row is named in a page range ("line 2001"). */
  label(item: unknown): string;
  /** Shown on the index under the page links (e.g. the flagged records, inline). */
  extra?: string;
}

function page(title: string, body: string[]): string {
  const styleHash = createHash('sha256').update(CSS).digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${styleHash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>hardkms audit report: ${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;color:#1b1f24;background:#fff}
body{margin:0 auto;padding:1.5rem;max-width:110rem}
h1{font-size:1.5rem;margin:0 0 .5rem}
h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.verdict{border-radius:6px;padding:.75rem 1rem;margin-top:1rem}
.verdict h2{border:0;margin:0 0 .25rem;font-size:1.4rem}
.verdict p{margin:.25rem 0}
.verdict.ok{background:#dafbe1;border:2px solid #1a7f37}
.verdict.ok h2{color:#1a7f37}
.verdict.fail{background:#ffebe9;border:2px solid #cf222e}
.verdict.fail h2{color:#cf222e}
table{border-collapse:collapse;width:100%;margin:.25rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.mono,span.mono{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
td.details{font-family:ui-monospace,monospace;font-size:.8rem;white-space:pre-wrap;word-break:break-all;max-width:40rem}
table.counts{width:auto}
table.counts td{text-align:right;min-width:4rem}
.status{font-weight:600;white-space:nowrap}
tr.st-signed .status{color:#1a7f37}
tr.st-chained .status{color:#1a7f37}
tr.st-unsigned-tail .status{color:#9a6700}
tr.st-bad{background:#ffebe9}
tr.st-bad .status{color:#cf222e}
tr.st-unverified{background:#fff8f0}
tr.st-unverified .status{color:#bc4c00}
tr.flagged td:first-child{border-left:4px solid #cf222e}
ol.anomalies{padding-left:1.5rem}
ol.anomalies li{margin:.3rem 0}
.sev{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase;font-size:.75rem}
li.sev-critical .sev{color:#cf222e}
li.sev-warning .sev{color:#9a6700}
li.sev-info .sev{color:#57606a}
.kind{font-family:ui-monospace,monospace;font-size:.85rem;background:#f6f8fa;padding:0 .25rem;border-radius:3px}
.hint{color:#57606a}
.ctl{background:#fff1a8;color:#6e3b00;font-family:ui-monospace,monospace;font-size:.75rem}
.none{color:#57606a;font-style:italic}
ul.creds{margin:0;padding-left:1rem}
a{color:#0550ae}
`;

const STATUS_TEXT: Record<RecordStatus, string> = {
  signed: 'verified: signed',
  chained: 'verified: chained (unsigned)',
  'unsigned-tail': 'chained, not yet signed',
  bad: 'BAD',
  unverified: 'unverified',
};

// Controls, zero-width and bidi characters can hide or reorder what a reader sees.
const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb]/g;

/** HTML text or attribute value from untrusted input. */
export function esc(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(
      INVISIBLE,
      (c) => `<span class="ctl">U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}</span>`,
    );
}

/** For attributes: the same escaping, but invisible characters become plain code points (no markup inside attributes). */
function attr(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return text
    .replace(INVISIBLE, (c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const MAX_SHOWN = 2000;

function clip(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length - MAX_SHOWN} more characters)` : text;
}

function recordLink(seq: number | null, line: number | null, links: Links): string {
  if (line === null) return seq === null ? '' : `record ${esc(seq)}`;
  return `<a href="${attr(links.record(line))}">${seq === null ? `line ${esc(line)}` : `record ${esc(seq)}`}</a>`;
}

function statusCell(status: RecordStatus): string {
  return `<td class="status" data-testid="status">${esc(STATUS_TEXT[status])}</td>`;
}

function header(report: AuditReport): string {
  const v = report.verification;
  return [
    '<header>',
    '<h1>hardkms audit report</h1>',
    '<dl class="meta">',
    `<dt>Log</dt><dd data-testid="log-path">${esc(report.logPath)}</dd>`,
    `<dt>Generated</dt><dd>${esc(report.generatedAt)}</dd>`,
    `<dt>Audit key (sha256 of SPKI)</dt><dd data-testid="key-fingerprint">${esc(report.publicKeyFingerprint)}</dd>`,
    `<dt>Head in wallet.dat</dt><dd>${v.headChecked ? 'checked (detects truncation and replacement)' : 'not checked (no wallet.dat given): truncation of the log would not be detected'}</dd>`,
    '</dl>',
    '<p class="hint">Compare the key fingerprint with the audit public key you hold independently: a report checked against a key taken from the same host proves only that the log is consistent with that key.</p>',
    '</header>',
  ].join('\n');
}

function verdict(report: AuditReport, title: string): string {
  const v = report.verification;
  const c = report.counts;
  const body = v.ok
    ? `<p data-testid="verdict-detail">All ${esc(v.lines)} records chain from the first; ${esc(c.signed)} carry a valid token signature, ${esc(c.chained)} unsigned ones are covered by a later signature${
        c.unsignedTail ? `, and the last ${esc(c.unsignedTail)} are unsigned with no signed record after them yet` : ''
      }.</p>`
    : `<p data-testid="verdict-detail">${esc(v.firstProblem?.text ?? 'verification failed')}</p><p>${esc(v.verified)} of ${esc(v.lines)} records verified before it; every record from ${
        v.firstProblem && v.verified < v.lines ? 'the failing one' : 'the log'
      } on is untrusted. Compare with your off-host copy of the log.</p>`;
  return [
    `<section class="verdict ${v.ok ? 'ok' : 'fail'}" data-testid="verdict" data-ok="${v.ok ? 'true' : 'false'}"${
      v.firstProblem
        ? ` data-failed-seq="${attr(v.firstProblem.seq ?? '')}" data-failed-line="${attr(v.firstProblem.line)}"`
        : ''
    }>`,
    `<h2 data-testid="verdict-title">${esc(title)}</h2>`,
    body,
    c.critical
      ? `<p><strong>${esc(c.critical)} critical anomal${c.critical === 1 ? 'y' : 'ies'}</strong> below.</p>`
      : '',
    '</section>',
  ].join('\n');
}

function summary(report: AuditReport): string {
  const c = report.counts;
  const rows: Array<[string, string, number]> = [
    ['records', 'Records', c.records],
    ['signed', 'Signed and verified', c.signed],
    ['chained', 'Unsigned, covered by a later signature', c.chained],
    ['unsigned-tail', 'Unsigned at the end, not yet covered', c.unsignedTail],
    ['bad', 'Failing verification', c.bad],
    ['unverified', 'Unverified (after the failure)', c.unverified],
    ['unseals', 'Unseal ceremonies that opened the vault', c.unseals],
    ['failed-unseals', 'Failed unseal attempts', c.failedUnseals],
    ['unwraps', 'Unwraps', c.unwraps],
    ['signatures', 'Signatures', c.signatures],
    ['broadcasts', 'Broadcasts', c.broadcasts],
    ['critical', 'Critical anomalies', c.critical],
    ['warning', 'Warnings', c.warning],
    ['info', 'Notes', c.info],
  ];
  return [
    '<section data-testid="summary">',
    '<h2>Summary</h2>',
    '<table class="counts"><tbody>',
    ...rows.map(
      ([id, label, n]) => `<tr><th>${esc(label)}</th><td data-testid="count-${attr(id)}">${esc(n)}</td></tr>`,
    ),
    '</tbody></table>',
    '</section>',
  ].join('\n');
}

function anomalies(list: Anomaly[], links: Links): string {
  const items = list.map(
    (a) =>
      `<li class="sev-${attr(a.severity)}" data-testid="anomaly" data-kind="${attr(a.kind)}" data-severity="${attr(a.severity)}" data-seq="${attr(a.seq ?? '')}" data-line="${attr(
        a.line ?? '',
      )}"><span class="sev">${esc(a.severity)}</span> <span class="kind">${esc(a.kind)}</span> ${recordLink(a.seq, a.line, links)}: ${esc(a.message)}${
        a.status === 'unverified' ? ' <span class="hint">(on an unverified record: a lead, not proof)</span>' : ''
      }</li>`,
  );
  return [
    '<section data-testid="anomalies">',
    `<h2>Anomalies (${esc(list.length)})</h2>`,
    list.length
      ? `<ol class="anomalies">\n${items.join('\n')}\n</ol>`
      : '<p class="none" data-testid="no-anomalies">None found.</p>',
    '</section>',
  ].join('\n');
}

function ceremonies(list: Ceremony[], links: Links): Table {
  const rows = list.map((c, i) => {
    const creds = c.credentials.length
      ? `<ul class="creds">${c.credentials
          .map(
            (k) =>
              `<li data-testid="credential" data-result="${attr(k.result)}">${esc(k.label || k.credential || '?')}${k.serial ? ` (serial ${esc(k.serial)})` : ''}${
                k.driver ? ` via ${esc(k.driver)}` : ''
              }: ${esc(k.result)}${k.error ? ` ${esc(k.error)}` : ''}${k.credential ? ` <span class="mono">${esc(k.credential)}</span>` : ''}</li>`,
          )
          .join('')}</ul>`
      : '<span class="none">none recorded</span>';
    const sealed =
      c.sealSeq !== undefined
        ? `${recordLink(c.sealSeq, null, links)} ${esc(c.sealTime ?? '')}${c.sealReason ? ` (${esc(c.sealReason)})` : ''}`
        : c.result === 'unsealed'
          ? '<strong>no seal record</strong>'
          : '';
    return [
      `<tr class="st-${attr(c.status)}" data-testid="ceremony-row" data-result="${attr(c.result)}" data-kind="${attr(c.kind)}" data-first-seq="${attr(c.firstSeq ?? '')}">`,
      `<td>${esc(i + 1)}</td>`,
      `<td>${recordLink(c.firstSeq, c.lines[0] ?? null, links)}${c.lastSeq !== c.firstSeq ? ` to ${esc(c.lastSeq ?? '?')}` : ''}</td>`,
      `<td class="mono">${esc(c.time)}</td>`,
      `<td>${esc(c.actor)}</td>`,
      `<td>${esc(c.kind)}: ${esc(c.provider)}${c.threshold !== undefined ? ` (threshold ${esc(c.threshold)})` : ''}</td>`,
      `<td>${creds}</td>`,
      `<td data-testid="drivers">${esc(c.drivers.join(', '))}${c.emulatorOnMainnet ? ' <strong>emulator on mainnet</strong>' : ''}</td>`,
      `<td>${esc(c.token ?? '')}</td>`,
      `<td data-testid="ceremony-result"><strong>${esc(c.result)}</strong>${c.errors.length ? `: ${esc(c.errors.join(', '))}` : ''}</td>`,
      `<td>${sealed}</td>`,
      statusCell(c.status),
      '</tr>',
    ].join('');
  });
  return {
    rows: rows.map((html, i) => ({ html, item: list[i] })),
    label: (c) => `record ${(c as Ceremony).firstSeq ?? '?'}`,
    section: (slice) =>
      [
        '<section data-testid="ceremonies">',
        `<h2>Unseal ceremonies and sessions (${esc(list.length)})</h2>`,
        '<p class="hint">A session runs from the token login that ends a ceremony to the seal by the same actor; keys can be used only inside one.</p>',
        slice.length
          ? [
              '<table><thead><tr><th>#</th><th>Records</th><th>Time</th><th>Actor</th><th>Kind</th><th>YubiKeys</th><th>Drivers</th><th>Token</th><th>Result</th><th>Sealed</th><th>Status</th></tr></thead><tbody>',
              ...slice.map((r) => r.html),
              '</tbody></table>',
            ].join('\n')
          : '<p class="none">No unseal ceremony recorded.</p>',
        '</section>',
      ].join('\n'),
  };
}

function operations(list: Operation[], links: Links): Table {
  const approval = (o: Operation): string => {
    if (o.approvalRequired === undefined && o.approved === undefined) return '';
    return `${o.approvalRequired ? 'required' : o.approvalRequired === false ? 'not required' : ''}${o.approved !== undefined ? `${o.approvalRequired !== undefined ? ', ' : ''}${o.approved ? 'approved' : 'NOT approved'}` : ''}`;
  };
  const rows = list.map((o) =>
    [
      `<tr class="st-${attr(o.status)}" data-testid="operation-row" data-kind="${attr(o.kind)}" data-seq="${attr(o.seq ?? '')}" data-result="${attr(o.result)}">`,
      `<td>${recordLink(o.seq, o.line, links)}</td>`,
      `<td class="mono">${esc(o.time)}</td>`,
      `<td>${esc(o.event)}</td>`,
      `<td>${esc(o.result)}</td>`,
      `<td class="mono">${esc(o.pendingId ?? o.wallet ?? '')}</td>`,
      `<td>${esc(o.chain ?? '')}</td>`,
      `<td class="mono">${esc(o.rawTxHash ?? '')}</td>`,
      `<td class="mono">${esc(o.txId ?? '')}</td>`,
      `<td>${esc(approval(o))}</td>`,
      `<td>${o.inSession ? 'inside' : '<strong>outside</strong>'}</td>`,
      `<td>${esc(o.actor)}</td>`,
      statusCell(o.status),
      '</tr>',
    ].join(''),
  );
  return {
    rows: rows.map((html, i) => ({ html, item: list[i] })),
    label: (o) => `record ${(o as Operation).seq ?? '?'}`,
    section: (slice) =>
      [
        '<section data-testid="operations">',
        `<h2>Unwraps, signatures, approvals, broadcasts and secrets shown (${esc(list.length)})</h2>`,
        slice.length
          ? [
              '<table><thead><tr><th>Record</th><th>Time</th><th>Event</th><th>Result</th><th>Pending id / wallet</th><th>Chain</th><th>Raw tx hash</th><th>Chain tx id</th><th>Approval</th><th>Session</th><th>Actor</th><th>Status</th></tr></thead><tbody>',
              ...slice.map((r) => r.html),
              '</tbody></table>',
            ].join('\n')
          : '<p class="none">No unwrap, signature, approval or broadcast recorded.</p>',
        '</section>',
      ].join('\n'),
  };
}

function admin(report: AuditReport, links: Links): Table {
  const list = report.admin;
  return {
    rows: list.map((a) => ({
      item: a,
      html: `<tr class="st-${attr(a.status)}" data-testid="admin-row" data-seq="${attr(a.seq ?? '')}"><td>${recordLink(a.seq, a.line, links)}</td><td class="mono">${esc(a.time)}</td><td>${esc(
        a.event,
      )}</td><td class="mono">${esc(a.subject)}</td><td>${esc(a.result)}</td><td>${esc(a.actor)}</td>${statusCell(a.status)}</tr>`,
    })),
    label: (a) => `record ${(a as { seq: number | null }).seq ?? '?'}`,
    section: (slice) =>
      [
        '<section data-testid="admin">',
        `<h2>Administration (${esc(list.length)})</h2>`,
        '<table><thead><tr><th>Record</th><th>Time</th><th>Event</th><th>Subject</th><th>Result</th><th>Actor</th><th>Status</th></tr></thead><tbody>',
        ...slice.map((r) => r.html),
        '</tbody></table>',
        '</section>',
      ].join('\n'),
  };
}

function records(list: ReportRecord[], _links: Links): Table {
  const flagged = (r: ReportRecord): boolean => r.status === 'bad' || r.problem !== undefined;
  const rows = list.map((r) => {
    const details = r.raw !== undefined ? r.raw : Object.keys(r.details).length ? JSON.stringify(r.details) : '';
    return [
      `<tr id="line-${attr(r.line)}" class="st-${attr(r.status)}${flagged(r) ? ' flagged' : ''}" data-testid="record-row" data-line="${attr(r.line)}" data-seq="${attr(
        r.seq ?? '',
      )}" data-status="${attr(r.status)}" data-event="${attr(r.event)}">`,
      `<td>${esc(r.line)}</td>`,
      `<td>${esc(r.seq ?? '')}</td>`,
      `<td class="mono">${esc(r.time)}</td>`,
      `<td>${esc(r.event)}</td>`,
      `<td>${esc(r.actor)}</td>`,
      `<td class="mono">${esc(r.subject)}</td>`,
      `<td>${esc(r.result)}</td>`,
      `<td class="details">${esc(clip(details))}</td>`,
      `<td>${r.signed ? 'yes' : 'no'}</td>`,
      `<td class="status" data-testid="status">${esc(STATUS_TEXT[r.status])}${r.problem ? `<br><span data-testid="problem">${esc(r.problem)}</span>` : ''}</td>`,
      '</tr>',
    ].join('');
  });
  const head =
    '<table><thead><tr><th>Line</th><th>Seq</th><th>Time</th><th>Event</th><th>Actor</th><th>Subject</th><th>Result</th><th>Details</th><th>Signed</th><th>Status</th></tr></thead><tbody>';
  const flaggedRows = list.flatMap((r, i) => (flagged(r) ? [rows[i]!] : []));
  return {
    rows: rows.map((html, i) => ({ html, item: list[i] })),
    label: (r) => `line ${(r as ReportRecord).line}`,
    section: (slice) =>
      [
        '<section data-testid="records">',
        `<h2>Every record (${esc(list.length)})</h2>`,
        head,
        ...slice.map((r) => r.html),
        '</tbody></table>',
        '</section>',
      ].join('\n'),
    // The records that fail verification stay on the index, where the auditor starts (on their pages too).
    extra: flaggedRows.length
      ? [
          `<h3 data-testid="flagged-records">Records that fail verification (${esc(flaggedRows.length)})</h3>`,
          head,
          ...flaggedRows.slice(0, REPORT_PAGE_SIZE).map((h) => h.replace(/ id="line-[^"]*"/, '')),
          '</tbody></table>',
        ].join('\n')
      : '',
  };
}

function legend(): string {
  return [
    '<footer>',
    '<h2>How to read this report</h2>',
    '<dl class="meta">',
    "<dt>verified: signed</dt><dd>The record is in an unbroken hash chain from the first record and carries a valid signature of the token's audit key, or is a member of a signed batch (format v3: records written together), whose last record's signature covers it through the chain.</dd>",
    '<dt>verified: chained (unsigned)</dt><dd>Written while the vault was sealed (unseal attempts). A later signed record covers its content; it does not prove who wrote it.</dd>',
    '<dt>chained, not yet signed</dt><dd>Unsigned, with no signed record after it yet: anyone able to write the log file could have appended it.</dd>',
    '<dt>BAD</dt><dd>The first record where verification fails: edited, deleted, reordered, or badly signed.</dd>',
    '<dt>unverified</dt><dd>After the first failure. The chain no longer vouches for it; a problem shown beside it comes from re-checking it against its neighbour only.</dd>',
    '</dl>',
    '<p class="hint">Timeline, operations and anomalies are read from what the records claim; trust them only as far as the status of the records they come from.</p>',
    '</footer>',
  ].join('\n');
}
