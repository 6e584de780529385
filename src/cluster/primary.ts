import cluster, { type Worker } from 'node:cluster';
import type { AppLogger } from '../common/logger';
import { isClusterMessage, type ClusterMessage } from './messages';

export interface PrimaryOptions {
  processes: number;
  /** variables the workers get besides the primary's own environment */
  workerEnv: Record<string, string>;
  logger: AppLogger;
  /** a worker that crashes after it listened is replaced, unless this many crashed within a minute */
  maxRestartsPerMinute?: number;
  /** Cloud Run kills 10 s after SIGTERM; the workers drain within 9.8 s */
  stopDeadlineMs?: number;
  exit?: (code: number) => void;
}

/** What the primary offers the signal handling of `main.ts`. */
export interface Primary {
  /** SIGTERM/SIGINT: every worker drains and exits, then the primary exits with the worst code. */
  stop(signal: NodeJS.Signals): void;
}

const METRICS_GATHER_MS = 2000;

/**
 * The supervising process when WEB_CONCURRENCY > 1 (docs/decisions/0010). It loads no framework
 * and opens no connection: it forks the workers (each one the whole service, sharing the listening
 * socket, which the primary hands out round-robin), replaces one that crashes, stops them on a
 * signal, relays `/metrics` so the figures cover every worker, and exits with the startup error
 * of a worker that could not start (a configuration or database problem would only repeat).
 */
export function runPrimary(opts: PrimaryOptions): Primary {
  const log = opts.logger.child({ context: 'Cluster' });
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const maxRestarts = opts.maxRestartsPerMinute ?? 5;
  const listening = new Set<number>();
  const restarts: number[] = [];
  let stopping = false;
  let worstCode = 0;
  let announced = false;
  const indexOf = new Map<number, number>();

  const fork = (index: number): Worker => {
    const w = cluster.fork({ ...opts.workerEnv, ECOFLOW_PROCESS_INDEX: String(index) });
    w.on('message', (m: unknown) => {
      if (isClusterMessage(m)) {
        onMessage(w, m);
      }
    });
    indexOf.set(w.id, index);
    return w;
  };

  const onMessage = (w: Worker, m: ClusterMessage): void => {
    if (m.ecoflow === 'listening') {
      listening.add(w.id);
      if (!announced && listening.size === opts.processes) {
        announced = true;
        // the line operators and the tests wait for, once per instance
        log.info({ port: m.port, processes: opts.processes }, 'ecoflow-backend listening');
      }
    } else if (m.ecoflow === 'metrics-request') {
      void gatherMetrics().then((parts) => {
        if (w.isConnected()) {
          w.send({ ecoflow: 'metrics-result', id: m.id, parts } satisfies ClusterMessage);
        }
      });
    }
  };

  // each worker answers with its registry as JSON; one that is stuck or gone is left out
  const gatherMetrics = async (): Promise<unknown[]> => {
    const targets = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w && listening.has(w.id) && w.isConnected()));
    const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const parts = await Promise.all(
      targets.map(
        (w) =>
          new Promise<unknown>((resolve) => {
            const timer = setTimeout(() => done(null), METRICS_GATHER_MS);
            const onMsg = (m: unknown): void => {
              if (isClusterMessage(m) && m.ecoflow === 'metrics-part' && m.id === id) {
                done(m.metrics);
              }
            };
            const done = (v: unknown): void => {
              clearTimeout(timer);
              w.off('message', onMsg);
              resolve(v);
            };
            w.on('message', onMsg);
            try {
              w.send({ ecoflow: 'metrics-collect', id } satisfies ClusterMessage);
            } catch {
              done(null);
            }
          }),
      ),
    );
    return parts.filter((p) => p !== null);
  };

  cluster.on('exit', (w, code, signal) => {
    const index = indexOf.get(w.id) ?? 0;
    indexOf.delete(w.id);
    const wasListening = listening.delete(w.id);
    const exitCode = code ?? (signal ? 1 : 0);
    if (stopping) {
      worstCode = Math.max(worstCode, exitCode);
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info({ code: worstCode }, 'all worker processes stopped');
        exit(worstCode);
      }
      return;
    }
    if (!wasListening) {
      // it failed while starting: its own log line says why; starting it again would only repeat it
      log.error({ worker: index, code, signal }, 'a worker process failed to start; stopping the instance');
      stopAll(exitCode === 0 ? 1 : exitCode);
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0] < now - 60000) {
      restarts.shift();
    }
    if (restarts.length > maxRestarts) {
      log.error({ worker: index, code, signal, restarts: restarts.length }, 'worker processes keep crashing; stopping the instance');
      stopAll(1);
      return;
    }
    log.error({ worker: index, code, signal }, 'a worker process exited; starting a replacement');
    fork(index);
  });

  // every worker drains its own requests (graceful-shutdown.ts); workers ignore SIGINT
  const stopAll = (code: number): void => {
    stopping = true;
    worstCode = Math.max(worstCode, code);
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    if (live.length === 0) {
      exit(worstCode);
      return;
    }
    for (const w of live) {
      w.process.kill('SIGTERM');
    }
    const deadline = setTimeout(() => {
      log.error('worker processes overran the shutdown deadline; exiting now');
      for (const w of Object.values(cluster.workers ?? {})) {
        w?.process.kill('SIGKILL');
      }
      exit(1);
    }, opts.stopDeadlineMs ?? 9900);
    deadline.unref();
  };

  log.info({ processes: opts.processes }, 'starting worker processes');
  for (let i = 0; i < opts.processes; i += 1) {
    fork(i);
  }

  return {
    stop: (signal) => {
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown; stopping worker processes now');
        for (const w of Object.values(cluster.workers ?? {})) {
          w?.process.kill('SIGKILL');
        }
        exit(1);
        return;
      }
      log.info({ signal, processes: Object.keys(cluster.workers ?? {}).length }, 'shutdown started: stopping worker processes');
      stopAll(0);
    },
  };
}
