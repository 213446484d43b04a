import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';

/**
 * A real rsyslogd (Debian package rsyslog, TLS through rsyslog-gnutls), run unprivileged
 * by a test on 127.0.0.1 with its own config in a temp dir: the off-host audit sink. It
 * writes each message's MSG (the record line) to one file, as an auditor's SIEM would keep it.
 */
export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const haveRsyslog = existsSync(RSYSLOGD);
export const haveRsyslogTls =
  existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so') ||
  existsSync('/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so');

export interface Rsyslog {
  dir: string;
  output: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  lines(): string[];
}

export function rsyslog(options: {
  tcpPort: number;
  tls?: { port: number; cert: string; key: string; ca: string };
}): Rsyslog {
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-rsyslog-'));
  const output = join(dir, 'forwarded.log');
  const tls = options.tls;
  // One sink per rsyslogd: plain TCP, or TLS (server-authenticated, anonymous clients).
  const conf = [
    `global(workDirectory="${dir}" maxMessageSize="64k"${tls ? ` defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}"` : ''})`,
    tls
      ? 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")'
      : 'module(load="imtcp")',
    'template(name="msgonly" type="string" string="%msg%\\n")',
    `ruleset(name="audit") { action(type="omfile" file="${output}" template="msgonly") }`,
    `input(type="imtcp" port="${tls ? tls.port : options.tcpPort}" address="127.0.0.1" ruleset="audit")`,
  ];
  const confPath = join(dir, 'rsyslog.conf');
  writeFileSync(confPath, `${conf.join('\n')}\n`);
  let child: ChildProcess | undefined;
  const port = tls ? tls.port : options.tcpPort;
  return {
    dir,
    output,
    async start() {
      child = spawn(RSYSLOGD, ['-n', '-f', confPath, '-i', join(dir, 'rsyslogd.pid')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      for (let i = 0; i < 100; i++) {
        if (await listening(port)) return;
        if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`rsyslogd did not listen on ${port}: ${stderr}`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const c = child;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    lines() {
      return existsSync(output) ? readFileSync(output, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
