import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { CLI, runCli } from '../support/cli.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';

/**
 * The auditor's page end to end: a real log written by a vault on SoftHSM2 (records
 * signed by the token's audit key), rendered by the built CLI, opened in headless
 * Chromium. Chromium is the Debian package scripts/setup.sh installs.
 */
const CHROMIUM = process.env.HARDKMS_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `audit-report: SKIPPED: no Chromium at ${CHROMIUM}. Install it (Debian: apt-get install chromium, or bash scripts/setup.sh) or set HARDKMS_CHROMIUM.`,
  );
}

/** Runs in the page (serialised by Playwright); the tests' TypeScript has no DOM lib, hence the cast. */
const backgroundOf = (el: unknown): string =>
  (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el)
    .backgroundColor;

const INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

describe.skipIf(!haveChromium)('hardkms audit report --html in headless Chromium', () => {
  let tv: TestVault;
  let logPath: string;
  let browser: Browser;
  let page: Page;
  let intruderSeq = 0;
  let fingerprint = '';
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CLI), `the built CLI is missing at ${CLI}: run npm run build (scripts/test.sh does)`).toBe(true);
    tv = await createTestVault();
    logPath = join(tv.dir, 'audit.log');
    // Session 1 (init): one approved, signed and broadcast transaction, one signed without the required approval.
    const v = tv.vault;
    v.record({
      event: 'approval',
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', approvalRequired: true },
    });
    v.record({ event: 'unwrap', subject: 'sig-ltc', result: 'ok', details: { pendingId: 'p-1', chain: 'LTC' } });
    v.record({
      event: 'sign',
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', chain: 'LTC', rawTxHash: 'aa11', approvalRequired: true, approved: true },
    });
    v.record({
      event: 'broadcast',
      subject: 'p-1',
      result: 'ok',
      details: { pendingId: 'p-1', chain: 'LTC', txId: 'bb22' },
    });
    v.record({
      event: 'sign',
      subject: 'p-2',
      result: 'ok',
      details: { pendingId: 'p-2', chain: 'ETH', rawTxHash: 'cc33', approvalRequired: true, note: INJECTION },
    });
    v.seal('end of session 1');
    // Session 2: unsealed again through the password provider, one more signature.
    const v2 = await openTestVault(tv.path);
    v2.record({
      event: 'sign',
      subject: 'p-3',
      result: 'ok',
      details: { pendingId: 'p-3', chain: 'LTC', rawTxHash: 'dd44', approvalRequired: false },
    });
    v2.seal('end of session 2');
    // Written by something that is not an unsealed hardkms: no signature, no session.
    new AuditLog(logPath, { actor: 'intruder' }).append({
      event: 'sign',
      subject: 'p-4',
      result: 'ok',
      details: { pendingId: 'p-4', rawTxHash: 'ee55' },
    });
    // The next unseal countersigns it (so the log verifies): the report must still point at it.
    intruderSeq = lineCount(logPath);
    const v3 = await openTestVault(tv.path);
    fingerprint = v3.binding.auditKeyFingerprint!;
    v3.seal('end of session 3');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
  });

  const lineCount = (file: string): number => readFileSync(file, 'utf8').trim().split('\n').length;
  const rows = (testid: string) => page.locator(`[data-testid="${testid}"]`);

  it('renders a verified log: ceremonies, operations, every record and the anomalies it finds', async () => {
    const html = join(tv.dir, 'report.html');
    const r = await runCli(['audit', 'report', '--html', html, '--path', tv.path, '--fingerprint', fingerprint], {
      env: tv.token.env,
    });
    // Verified, but two critical anomalies: the exit code says an auditor must look.
    expect(r.code).not.toBe(0);
    expect(r.error().code).toBe('AUDIT_CRITICAL_ANOMALY');
    expect(r.json()).toMatchObject({
      ok: true,
      html,
      headChecked: true,
      signatures: 4,
      broadcasts: 1,
      anomalies: { critical: 2, warning: 1 },
    });
    expect(statSync(html).mode & 0o777).toBe(0o644);

    await page.goto(pathToFileURL(html).href);
    await expect(page.title()).resolves.toBe('hardkms audit report: VERIFIED');
    expect(await rows('verdict').getAttribute('data-ok')).toBe('true');
    expect(await rows('verdict-title').textContent()).toBe('VERIFIED');
    // The stylesheet applies under the page's CSP (its hash is right): the verdict box is green.
    expect(await rows('verdict').evaluate(backgroundOf)).toBe('rgb(218, 251, 225)');

    const n = lineCount(logPath);
    await expect(rows('record-row').count()).resolves.toBe(n);
    await expect(page.locator('[data-testid="record-row"][data-status="bad"]').count()).resolves.toBe(0);

    const ceremonies = rows('ceremony-row');
    await expect(ceremonies.count()).resolves.toBe(3);
    expect(await ceremonies.nth(0).getAttribute('data-kind')).toBe('init');
    expect(await ceremonies.nth(1).getAttribute('data-result')).toBe('unsealed');
    expect(await ceremonies.nth(1).textContent()).toContain('unseal: password');
    expect(await ceremonies.nth(1).textContent()).toContain('end of session 2');

    const signs = page.locator('[data-testid="operation-row"][data-kind="sign"]');
    await expect(signs.count()).resolves.toBe(4);
    expect(await signs.nth(0).textContent()).toContain('aa11');
    await expect(page.locator('[data-testid="operation-row"][data-kind="broadcast"]').textContent()).resolves.toContain(
      'bb22',
    );

    const anomalyAt = async (kind: string): Promise<string[]> =>
      page
        .locator(`[data-testid="anomaly"][data-kind="${kind}"]`)
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-seq') ?? ''));
    expect(await anomalyAt('missing-approval')).toEqual([String(recordSeq('p-2'))]);
    expect(await anomalyAt('outside-session')).toEqual([String(intruderSeq)]);
    expect(await anomalyAt('unsigned-record')).toEqual([String(intruderSeq)]);
    await expect(rows('count-signatures').textContent()).resolves.toBe('4');

    // Attacker-controlled text is shown, not run.
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(page.locator('script, img').count()).resolves.toBe(0);
    expect(await page.locator(`[data-testid="record-row"][data-seq="${recordSeq('p-2')}"]`).textContent()).toContain(
      '<script>window.__pwned=2</script>',
    );
    expect(consoleErrors).toEqual([]);
  });

  it('shows FAILED for a tampered log, flags the edited record and distrusts every later one', async () => {
    // The auditor's copy of the folder, with one record edited.
    const copy = mkdtempSync(join(tmpdir(), 'hardkms-auditor-copy-'));
    const tampered = join(copy, 'audit.log');
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    const target = recordSeq('p-1', 'sign');
    lines[target - 1] = lines[target - 1]!.replace('"aa11"', '"ff99"');
    writeFileSync(tampered, `${lines.join('\n')}\n`);
    copyFileSync(join(tv.dir, 'audit.pub.pem'), join(copy, 'audit.pub.pem'));
    copyFileSync(tv.path, join(copy, 'wallet.dat'));
    const html = join(tv.dir, 'tampered.html');

    const r = await runCli(
      ['audit', 'report', '--html', html, '--path', join(copy, 'wallet.dat'), '--fingerprint', fingerprint],
      { env: tv.token.env },
    );
    expect(r.code).not.toBe(0);
    expect(r.error()).toMatchObject({ code: 'AUDIT_VERIFY_FAILED' });
    expect(r.json()).toMatchObject({ ok: false, firstBadRecord: target });
    expect(existsSync(html)).toBe(true);

    await page.goto(pathToFileURL(html).href);
    expect(await rows('verdict').getAttribute('data-ok')).toBe('false');
    expect(await rows('verdict-title').textContent()).toBe(`FAILED at record ${target}`);
    expect(await rows('verdict').evaluate(backgroundOf)).toBe('rgb(255, 235, 233)');
    const bad = page.locator('[data-testid="record-row"][data-status="bad"]');
    await expect(bad.count()).resolves.toBe(1);
    expect(await bad.getAttribute('data-seq')).toBe(String(target));
    expect(await bad.locator('[data-testid="problem"]').textContent()).toContain('edited');
    await expect(page.locator('[data-testid="record-row"][data-status="unverified"]').count()).resolves.toBe(
      lines.length - target,
    );
    const flagged = page.locator(`[data-testid="anomaly"][data-kind="edited-record"]`);
    expect(await flagged.getAttribute('data-seq')).toBe(String(target));
    expect(await flagged.getAttribute('data-severity')).toBe('critical');
    expect(consoleErrors).toEqual([]);
  });

  /** Sequence number of the record about a pending id (the last one, or the first of an event). */
  function recordSeq(pendingId: string, event?: string): number {
    const recs = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; event: string; details: { pendingId?: string } });
    const hit = recs.filter((x) => x.details.pendingId === pendingId && (event === undefined || x.event === event));
    return (event ? hit[0] : hit[hit.length - 1])!.seq;
  }
});
