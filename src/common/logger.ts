import cluster from 'node:cluster';
import pino, { Logger } from 'pino';
import { requestContext } from './request-context';

// Cloud Logging reads `severity` and `message`; pino's numeric levels are mapped to its names.
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Paths never written to logs, whatever a caller passes in. */
// Explicit paths only: wildcard paths make pino clone and re-serialize every logged object,
// which cost more CPU than the rest of a detection. Nothing logs bodies, tokens or passwords.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-device-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-device-key"]',
  'headers.cookie',
];

const accessLoggers = new WeakMap<Logger, Logger>();

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    messageKey: 'message',
    // with WEB_CONCURRENCY > 1 each line says which worker process wrote it
    base: cluster.isWorker && process.env.ECOFLOW_PROCESS_INDEX !== undefined ? { worker: Number(process.env.ECOFLOW_PROCESS_INDEX) } : undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT', level: label }),
    },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  // one stream for both loggers below (pino's default: asynchronous stdout, flushed on exit)
  const dest = destination ?? pino.destination({ dest: process.stdout.fd || 1, sync: false });
  // request id and trace on every line written while serving a request
  const logger = pino({ ...options, mixin: () => requestContext.getStore() ?? {} }, dest);
  // the access log binds the request id itself (pino-http), so it writes through a sibling
  // without the mixin instead of the mixin peeking at the child's bindings
  accessLoggers.set(logger, pino(options, dest));
  return logger;
}

/** The sibling of a `createLogger` logger for the access log: same stream and format, no request-context mixin. */
export function accessLoggerOf(logger: Logger): Logger {
  return accessLoggers.get(logger) ?? logger;
}

/** Injection token for the root pino logger; modules call `.child({ context })`. */
export const LOGGER = Symbol('LOGGER');
export type AppLogger = Logger;
