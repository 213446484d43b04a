// `audit report --html` on a 100,000-record log (issue 10: it must open in a browser in under
// 2 s). Writes a signed log with a host P-256 key standing in for the token's audit key, then
// times the report model, the rendering, and Chromium's load of the index and of one page.
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { p256 } from '@noble/curves/p256';
import { AuditLog } from '../../dist/audit/log.js';
import { buildAuditReport } from '../../dist/audit/report.js';
import { renderAuditReport } from '../../dist/audit/report-html.js';
import { writeReportFiles } from '../../dist/audit/report-files.js';

const RECORDS = Number(process.env.HARDKMS_BENCH_RECORDS ?? 100_000);
const TARGET_MS = 2000;
const CHROMIUM = process.env.HARDKMS_CHROMIUM ?? '/usr/bin/chromium';

const priv = p256.utils.randomPrivateKey();
const spki = Buffer.concat([
  Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  Buffer.from(p256.getPublicKey(priv, false)),
]);
const pem = createPublicKey({ key: spki, format: 'der', type: 'spki' })
  .export({ format: 'pem', type: 'spki' })
  .toString();
const signer = (hash) => Buffer.from(p256.sign(hash, priv, { prehash: false }).toCompactRawBytes());

const dir = mkdtempSync(join(tmpdir(), 'hardkms-bench-report-'));
const logPath = join(dir, 'audit.log');
let head;
const log = new AuditLog(logPath, { signer, store: { withLock: (fn) => fn(), setHead: (h) => (head = h) } });
const actor = 'daemon@bench';
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

let t0 = process.hrtime.bigint();
log.append({ event: 'token.login', actor, subject: 'hardkms', result: 'ok', details: { serial: 'bench' } });
for (let n = 1; n < RECORDS - 1; n += 4) {
  const id = `p-${n}`;
  log.append({
    event: 'approval',
    actor,
    subject: id,
    result: 'ok',
    details: { pendingId: id, approvalRequired: true },
  });
  log.append({ event: 'unwrap', actor, subject: 'sig-1', result: 'ok', details: { pendingId: id, chain: 'LTC' } });
  log.append({
    event: 'sign',
    actor,
    subject: id,
    result: 'ok',
    details: { pendingId: id, chain: 'LTC', rawTxHash: `raw-${n}`, approvalRequired: true, approved: true },
  });
  log.append({
    event: 'broadcast',
    actor,
    subject: id,
    result: 'ok',
    details: { pendingId: id, chain: 'LTC', txId: `tx-${n}` },
  });
}
log.append({ event: 'seal', actor, result: 'ok', details: { reason: 'bench' } });
console.log(
  `wrote ${head.seq} signed records in ${ms(t0).toFixed(0)} ms (${(statSync(logPath).size / 1e6).toFixed(1)} MB)`,
);

t0 = process.hrtime.bigint();
const report = buildAuditReport({ logPath, publicKeyPem: pem, head, generatedAt: new Date().toISOString() });
console.log(
  `report model: ${ms(t0).toFixed(0)} ms (verified ${report.verification.verified} of ${report.verification.lines})`,
);
t0 = process.hrtime.bigint();
const indexPath = join(dir, 'report.html');
const rendered = renderAuditReport(report, { indexName: indexPath });
writeReportFiles(indexPath, rendered);
console.log(
  `render + write: ${ms(t0).toFixed(0)} ms; index ${(statSync(indexPath).size / 1e3).toFixed(0)} kB, ${rendered.pages.length} pages`,
);

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  chromium = undefined;
}
if (
  !chromium ||
  !(() => {
    try {
      return statSync(CHROMIUM).isFile();
    } catch {
      return false;
    }
  })()
) {
  console.log(`browser load: SKIPPED (no Chromium at ${CHROMIUM}; set HARDKMS_CHROMIUM)   target < ${TARGET_MS} ms`);
} else {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    for (const [what, file] of [
      ['index', indexPath],
      ['one page', join(dir, rendered.pages[rendered.pages.length - 1].name)],
    ]) {
      t0 = process.hrtime.bigint();
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      console.log(`browser load of the ${what}: ${ms(t0).toFixed(0)} ms   target < ${TARGET_MS} ms`);
    }
  } finally {
    await browser.close();
  }
}
