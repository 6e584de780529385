import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Lifecycle } from './common/lifecycle';
import type { AppLogger } from './common/logger';

export interface ShutdownOptions {
  /** how long in-flight requests may run after the signal */
  drainMs: number;
  /** budget for closing the pool, Redis and the other providers afterwards */
  closeMs: number;
  exit: (code: number) => void;
}

// Cloud Run sends SIGKILL 10 s after SIGTERM: drain + close + margin stay below that.
export const DEFAULT_SHUTDOWN: ShutdownOptions = { drainMs: 8500, closeMs: 1000, exit: (code) => process.exit(code) };

/** The signal handler itself, separate so tests can drive it without signalling their own process. */
export function createShutdownHandler(app: INestApplication, logger: AppLogger, opts: ShutdownOptions): (signal: NodeJS.Signals) => void {
  const log = logger.child({ context: 'Shutdown' });
  let stopping = false;

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    const started = Date.now();
    // readiness off; open event streams end with `retry:` so their clients resume on another instance
    app.get(Lifecycle).beginShutdown();
    log.info({ signal }, 'shutdown started: readiness off, draining in-flight requests');
    const hardStop = setTimeout(() => {
      log.error('shutdown overran its deadline; exiting now');
      opts.exit(1);
    }, opts.drainMs + opts.closeMs + 300);
    hardStop.unref();

    const server = app.getHttpServer() as Server;
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    // keep-alive sockets would otherwise hold server.close() open until they time out
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), opts.drainMs);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(sweep);
    if (timedOut) {
      log.warn({ drainMs: opts.drainMs }, 'requests still running at the drain deadline; closing their connections');
      server.closeAllConnections();
    }

    try {
      await withDeadline(app.close(), opts.closeMs);
    } catch (err) {
      log.error({ err }, 'closing the application failed');
      opts.exit(1);
      return;
    }
    clearTimeout(hardStop);
    log.info({ ms: Date.now() - started }, 'shutdown complete');
    opts.exit(0);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal during shutdown; exiting now');
      opts.exit(1);
      return;
    }
    stopping = true;
    shutdown(signal).catch((err: unknown) => {
      log.error({ err }, 'shutdown failed');
      opts.exit(1);
    });
  };
  return onSignal;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
