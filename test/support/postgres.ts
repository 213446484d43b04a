import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/ports.js';

/**
 * A real PostgreSQL server (Debian's `postgresql` package), started by a test in a temp
 * dir: initdb + pg_ctl on 127.0.0.1 and a free port, TLS only (a CA made here signs the
 * server certificate; hardkms connects with sslmode=verify-full against that CA), torn
 * down by stop(). The server refuses to run as root, and CI runs as root: every server
 * command then runs as the unprivileged `postgres` user (the package creates it), or
 * `nobody`, through runuser.
 *
 * The hardkms role authenticates with a password (scram-sha-256) kept in a pgpass file
 * (PGPASSFILE): hardkms never takes a password in the store URL (it would sit in argv or
 * an env file). The superuser reaches the server only through the unix socket in the temp
 * dir: that is the "database admin" the tampering tests play.
 */

function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .map(Number)
    .filter((v) => Number.isInteger(v) && v >= 15 && existsSync(join(root, String(v), 'bin', 'initdb')))
    .sort((a, b) => b - a);
  return versions.length === 0 ? undefined : join(root, String(versions[0]), 'bin');
}

export const PG_BIN = pgBinDir();
export const havePostgres = PG_BIN !== undefined;

const isRoot = process.getuid?.() === 0;

function serverUser(): { name: string; uid: number; gid: number } {
  if (!isRoot) {
    const u = userInfo();
    return { name: u.username, uid: u.uid, gid: u.gid };
  }
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('no unprivileged user (postgres or nobody) to run PostgreSQL as');
}

export interface Postgres {
  dir: string;
  port: number;
  /** The CA that signed the server certificate (sslrootcert). */
  ca: string;
  /** pgpass file holding the hardkms role's password (set PGPASSFILE to it). */
  passFile: string;
  /** postgres://hardkms@127.0.0.1:PORT/DB?sslmode=verify-full&sslrootcert=CA */
  url(database?: string): string;
  /** Environment for a hardkms child process: PGPASSFILE. */
  env: Record<string, string>;
  /** Runs SQL as the superuser (the database admin) with psql; returns its stdout (tuples only, '|'-separated). */
  psql(sql: string, database?: string): string;
  /** Creates an empty database owned by the hardkms role. */
  createDatabase(name: string): string;
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** Stops the server and removes the temp dir. */
  destroy(): void;
}

function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=hardkms test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

export async function startPostgres(options: { password?: string } = {}): Promise<Postgres> {
  if (!PG_BIN)
    throw new Error('PostgreSQL 15+ is not installed (Debian package postgresql; scripts/setup.sh installs it)');
  const bin = PG_BIN;
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'hardkms-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const tls = join(dir, 'tls');
  const sock = join(dir, 'sock');
  const logFile = join(dir, 'server.log');
  const asServer = (cmd: string, args: string[], input?: string): string => {
    const [file, argv] = isRoot
      ? ['runuser', ['-u', user.name, '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    const r = spawnSync(file, argv, {
      encoding: 'utf8',
      cwd: dir,
      input,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
    });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  execFileSync('mkdir', ['-p', tls, sock]);
  const certs = makeCerts(tls);
  for (const p of [dir, tls, sock, certs.key, certs.cert, certs.ca]) chownSync(p, user.uid, user.gid);
  chmodSync(certs.key, 0o600);
  chmodSync(sock, 0o700);
  const port = await freePort();
  asServer('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  writeFileSync(
    join(data, 'postgresql.conf'),
    [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = '${sock}'`,
      `ssl = on`,
      `ssl_cert_file = '${certs.cert}'`,
      `ssl_key_file = '${certs.key}'`,
      `max_connections = 100`,
      `fsync = off`,
      `log_min_messages = warning`,
      '',
    ].join('\n'),
    { flag: 'a' },
  );
  // TLS only over TCP; the unix socket (mode 0700, the server user's) is the admin's way in.
  writeFileSync(
    join(data, 'pg_hba.conf'),
    ['local all all trust', 'hostssl all all 127.0.0.1/32 scram-sha-256', 'host all all 0.0.0.0/0 reject', ''].join(
      '\n',
    ),
  );
  chownSync(join(data, 'postgresql.conf'), user.uid, user.gid);
  chownSync(join(data, 'pg_hba.conf'), user.uid, user.gid);
  const start = () => {
    asServer('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
  };
  start();
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}`;
  const psql = (sql: string, database = 'postgres'): string =>
    asServer(
      'psql',
      [
        '-h',
        sock,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-v',
        'ON_ERROR_STOP=1',
        '-X',
        '-q',
        '-t',
        '-A',
        '-F',
        '|',
      ],
      sql,
    );
  psql(`CREATE ROLE hardkms LOGIN PASSWORD '${password}'; CREATE DATABASE hardkms OWNER hardkms;`);
  const passFile = join(dir, 'pgpass');
  writeFileSync(passFile, `127.0.0.1:${port}:*:hardkms:${password}\n`, { mode: 0o600 });
  let running = true;
  const pg: Postgres = {
    dir,
    port,
    ca: certs.ca,
    passFile,
    url: (database = 'hardkms') =>
      `postgres://hardkms@127.0.0.1:${port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`,
    env: { PGPASSFILE: passFile },
    psql,
    createDatabase(name) {
      psql(`CREATE DATABASE ${name} OWNER hardkms;`);
      return pg.url(name);
    },
    stop(mode = 'fast') {
      if (!running) return;
      asServer('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    start() {
      if (running) return;
      start();
      running = true;
    },
    destroy() {
      try {
        pg.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return pg;
}
