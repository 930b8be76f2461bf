import { pino, transport, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Least severe level written (pino's names: trace … fatal, or silent); default info. */
  readonly level?: string;
  /** Where the JSON lines go; default stderr. Not used when `pretty`. */
  readonly destination?: NodeJS.WritableStream;
  /**
   * One line of text per entry on stderr instead of JSON, for a person at a terminal: pino-pretty,
   * run by pino's own transport in a worker thread so formatting never holds up a run.
   */
  readonly pretty?: boolean;
  /** With `pretty`, colour the levels; never otherwise (NO_COLOR, a dumb terminal). */
  readonly colour?: boolean;
}

/**
 * The one logger. Structured JSON lines; personal data never goes in: log run ids, school
 * numbers, table names, counts and codes, never a name, birth date, address or original line.
 * The redaction below is a last line of defence for fields that should not be logged at all
 * (it applies before a line is formatted, pretty or not).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: 'cases-etl' },
    redact: {
      paths: ['*.raw', '*.before', '*.after', '*.values', 'req.headers.authorization', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  };
  if (options.pretty) {
    const pretty = transport({
      target: 'pino-pretty',
      options: {
        destination: 2,
        singleLine: true,
        colorize: options.colour ?? false,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'service',
      },
    });
    return pino(settings, pretty);
  }
  return pino(settings, options.destination ?? process.stderr);
}
