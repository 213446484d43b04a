import { renderAuditReport } from './report-html.js';
import type { AuditReport } from './report-model.js';

/** The whole report as one page (no paging): what the tests read. */
export function renderAuditReportHtml(report: AuditReport): string {
  return renderAuditReport(report, { indexName: 'report.html', pageSize: Number.POSITIVE_INFINITY }).index;
}
