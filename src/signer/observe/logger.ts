import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs on stderr (stdout stays for command results). Redaction is the
 * second line of defence: no code path logs a secret on purpose, and these paths are
 * censored in case one ever does (a pending transaction can carry Solana's mintPK, an
 * error body can echo a request).
 */
const REDACT_PATHS = [
  'privateKey',
  'mnemonic',
  'seed',
  'secret',
  'password',
  'pin',
  'tokenPin',
  'apiKey',
  'headers["x-api-key"]',
  'serializedTransaction',
  'txData',
  '*.privateKey',
  '*.mnemonic',
  '*.seed',
  '*.secret',
  '*.password',
  '*.pin',
  '*.apiKey',
  '*.serializedTransaction',
  '*.mintPK',
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the daemon's parts log: a level, a message, structured fields (redacted by the logger). */
export type DaemonLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function createLogger(level: LogLevel = 'info', destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { service: 'hardkms' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream,
  );
}

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}
