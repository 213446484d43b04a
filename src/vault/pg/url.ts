import { readFileSync } from 'node:fs';
import { HardkmsError } from '../../errors.js';

/** A store named by URL (`--store postgres://…`, HARDKMS_STORE_URL) rather than a wallet.dat path. */
export function isStoreUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** What the worker hands to pg.Client: no password (pgpass / PGPASSFILE or a client certificate supplies it). */
interface PgConnectionConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  ssl: { ca: string; cert?: string; key?: string; rejectUnauthorized: true };
  application_name: string;
  connectionTimeoutMillis: number;
  /** sslmode=verify-ca: the chain is checked, the host name is not. */
  verifyHost: boolean;
}

function badUrl(why: string, hint: string): HardkmsError {
  return new HardkmsError('STORE_URL_INVALID', `The store URL is not usable: ${why}.`, { hint });
}

const URL_HINT =
  'Use postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=/path/to/ca.pem (add sslcert=…&sslkey=… for a client certificate); keep the password in a pgpass file (PGPASSFILE), never in the URL.';

/**
 * Parses and checks a store URL. TLS with certificate checks is required: sslmode must be
 * verify-full (chain and host name) or verify-ca (chain), and sslrootcert must name the CA
 * the server's certificate chains to. A password in the URL is refused: the URL is given on
 * the command line or in the environment, where a secret must not be.
 */
export function parseStoreUrl(location: string): PgConnectionConfig {
  let u: URL;
  try {
    u = new URL(location);
  } catch {
    throw badUrl('it does not parse as a URL', URL_HINT);
  }
  if (u.password !== '') {
    throw new HardkmsError(
      'STORE_URL_SECRET',
      'The store URL carries a password; hardkms refuses secrets on the command line or in the environment.',
      {
        hint: 'Remove the password from the URL and put it in a pgpass file (HOST:PORT:DATABASE:USER:PASSWORD, mode 0600) named by PGPASSFILE, or use a client certificate (sslcert/sslkey).',
      },
    );
  }
  const user = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (u.hostname === '' || user === '' || database === '')
    throw badUrl('it must name a host, a user and a database', URL_HINT);
  const mode = u.searchParams.get('sslmode');
  if (mode !== 'verify-full' && mode !== 'verify-ca') {
    throw new HardkmsError(
      'STORE_TLS_REQUIRED',
      `The store URL has sslmode=${mode ?? '(none)'}; hardkms talks to PostgreSQL only over TLS with the server certificate checked.`,
      {
        hint: 'Add sslmode=verify-full&sslrootcert=/path/to/ca.pem (the CA that signed the server certificate).',
      },
    );
  }
  const read = (param: string, required: boolean): string | undefined => {
    const file = u.searchParams.get(param);
    if (file === null || file === '') {
      if (required)
        throw new HardkmsError(
          'STORE_TLS_REQUIRED',
          `The store URL has no ${param}: the server certificate cannot be checked.`,
          { hint: URL_HINT },
        );
      return undefined;
    }
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw badUrl(
        `${param} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        'Check the path and its permissions.',
      );
    }
  };
  for (const k of u.searchParams.keys()) {
    if (!['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name'].includes(k))
      throw badUrl(`unknown parameter '${k}'`, URL_HINT);
  }
  const ca = read('sslrootcert', true)!;
  const cert = read('sslcert', false);
  const key = read('sslkey', false);
  const port = u.port === '' ? 5432 : Number(u.port);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    database,
    user,
    ssl: {
      ca,
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      rejectUnauthorized: true,
    },
    application_name: u.searchParams.get('application_name') ?? 'hardkms',
    connectionTimeoutMillis: 10_000,
    verifyHost: mode === 'verify-full',
  };
}

/** The URL as shown in messages: without query parameters (file paths only, but long). */
export function displayStoreUrl(location: string): string {
  try {
    const u = new URL(location);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable)';
  }
}
