import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The one logger. Structured JSON lines; personal data never goes in: log run ids, school
 * numbers, table names, counts and codes, never a name, birth date, address or original line.
 * The redaction below is a last line of defence for fields that should not be logged at all.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'cases-etl' },
      redact: {
        paths: ['*.raw', '*.before', '*.after', '*.values', 'req.headers.authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stderr,
  );
}
