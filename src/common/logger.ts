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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT', level: label }),
      },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      // request id and trace on every line written while serving a request; the access-log
      // logger already binds them (pino would otherwise write the keys twice)
      mixin: (_obj, _level, log) => {
        const ctx = requestContext.getStore();
        // the serialized bindings string, not bindings(), which would JSON.parse it per line
        const bound = (log as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? '';
        return ctx === undefined || bound.includes('"request_id":') ? {} : ctx;
      },
    },
    destination,
  );
}

/** Injection token for the root pino logger; modules call `.child({ context })`. */
export const LOGGER = Symbol('LOGGER');
export type AppLogger = Logger;
