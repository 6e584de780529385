import { createLogger, type AppLogger } from './logger';

/**
 * Process-level signals and fatal messages for the two entry points (`dist/main.js` and the
 * migration command `dist/database/cli.js`).
 *
 * In the container node is PID 1, and the kernel drops a signal sent to PID 1 that has no
 * handler: without one, Cloud Run's SIGTERM is ignored and the instance is SIGKILLed 10 s later.
 * So each entry point installs this handler as its first statement, before it loads the framework,
 * and keeps it until it hands the signals over to the graceful shutdown (spec §11 "Signals").
 *
 * Importing this module is cheap (pino only): the entry points load everything heavy afterwards.
 */

/** NODE_ENV as the process sees it, before (or without) a valid configuration. */
export function isProductionEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV?.trim() === 'production';
}

/**
 * A message an operator must see although the JSON logger may not exist yet: in production one
 * JSON line on stdout (`severity`, `message`, `time`, like every other line, so Cloud Logging
 * parses it), in development the plain text on stderr (errors) or stdout.
 */
export function report(level: 'info' | 'error', message: string, logger?: AppLogger | null): void {
  if (isProductionEnv()) {
    (logger ?? createLogger('info'))[level](message);
  } else if (level === 'error') {
    console.error(message);
  } else {
    console.log(message);
  }
}

export interface StartupSignals {
  /** the configured logger, for the signal line once there is one */
  useLogger(logger: AppLogger): void;
  /** from now on SIGTERM/SIGINT go to `handler` (the graceful shutdown), not to the startup exit */
  handOver(handler: (signal: NodeJS.Signals) => void): void;
}

export interface StartupSignalOptions {
  /** what is being interrupted, for the log line ("startup", "migration run") */
  phase: string;
  /** exit code for a signal during this phase (spec §11: 0 or 1) */
  code: number;
  /**
   * Signals handled (default SIGTERM and SIGINT). A cluster worker handles only SIGTERM and
   * ignores SIGINT: Ctrl-C reaches the whole process group, and the primary stops the workers.
   */
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
}

/**
 * SIGTERM/SIGINT until `handOver`: one log line, then exit at once. Nothing is left half-done by
 * exiting: the database rolls back an open migration transaction and releases the advisory lock
 * when the connection drops, and a connection attempt to a database that does not answer has
 * nothing to undo.
 */
export function exitOnSignalUntilReady(opts: StartupSignalOptions): StartupSignals {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let logger: AppLogger | null = null;
  let current = (signal: NodeJS.Signals): void => {
    (logger ?? createLogger('info')).warn({ context: 'Shutdown', signal, phase: opts.phase }, `${signal} during ${opts.phase}: exiting with code ${opts.code}`);
    exit(opts.code);
  };
  const listener = (signal: NodeJS.Signals): void => current(signal);
  const handled = opts.signals ?? ['SIGTERM', 'SIGINT'];
  for (const s of ['SIGTERM', 'SIGINT'] as const) {
    process.on(s, handled.includes(s) ? listener : () => undefined);
  }
  return {
    useLogger: (l) => {
      logger = l;
    },
    handOver: (handler) => {
      current = handler;
    },
  };
}
