import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Lifecycle } from '../../common/lifecycle';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import { Metrics } from '../../observability/metrics.service';
import { EventSignal } from '../event-signal';
import type { EventEnvelope } from '../event-types';
import { EventsRepository } from '../events.repository';

/** A client whose socket keeps more than this queued (it does not read) is disconnected. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** Log reads, by the hub and by a client's replay, go in pages of this many events. */
export const PAGE = 500;
/** Safety net while clients are connected: a lost NOTIFY costs at most this much latency. */
export const POLL_MS = 2000;
/** Live events held for a client while its replay runs; beyond this the replay simply reads on. */
const REPLAY_BUFFER_MAX = 1000;
const RETRY = 'retry: 1000\n\n';
const KEEP_ALIVE = ': keep-alive\n\n';

export type TransientType = 'zone.occupancy';

export interface StreamFilter {
  types?: readonly string[];
  orgId?: number;
}

export interface StreamStats {
  clients: number;
  /** timers the hub holds: two per client (keep-alive, max duration) and the poll while it has clients */
  timers: number;
  /** subscribed to the event signal (only while it has clients) */
  running: boolean;
  /** the last event id the hub has read from the log */
  cursor: number;
}

/** One event, serialized once for every client it goes to; `id` null for a transient event. */
interface Frame {
  id: number | null;
  type: string;
  orgId: number | null;
  text: string;
}

interface Client {
  res: ServerResponse;
  filter: StreamFilter;
  /** the last event id written to this client: only larger ones are ever written */
  sentId: number;
  /** false while the replay from the log runs; live events wait in `buffer` */
  live: boolean;
  buffer: Frame[];
  /** bumped when the buffer overflows and is dropped: the replay must read the log once more */
  bufferGen: number;
  closed: boolean;
  timers: NodeJS.Timeout[];
}

function frameOf(e: EventEnvelope): Frame {
  return { id: e.id, type: e.type, orgId: e.organization_id, text: `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n` };
}

function matches(filter: StreamFilter, f: Frame): boolean {
  // transient events only to those who asked for their type; logged ones to all unless filtered
  if (f.id === null ? !filter.types?.includes(f.type) : filter.types !== undefined && !filter.types.includes(f.type)) {
    return false;
  }
  return filter.orgId === undefined || f.orgId === filter.orgId;
}

/**
 * The live stream's fan-out, one per instance (ALERTING.md §4). While it has clients it listens
 * to the event signal (and polls every 2 s in case a notification was lost), reads the log after
 * its own cursor in pages and hands each event, serialized once, to the matching clients. Each
 * client only ever gets ids larger than the last one it got, so replay and live never overlap.
 */
@Injectable()
export class StreamHub implements OnModuleDestroy {
  private readonly clients = new Set<Client>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: AppLogger;
  private cursor = 0;
  /** bumped on every start and stop: a read of an older generation leaves the cursor alone */
  private gen = 0;
  private starting: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private pumping = false;
  private pumpAgain = false;
  /** streams between their start and their registration: the hub does not stop under them */
  private opening = 0;

  constructor(
    private readonly events: EventsRepository,
    private readonly signal: EventSignal,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly lifecycle: Lifecycle,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'StreamHub' });
    // at SIGTERM open streams end with `retry:` at once instead of holding the drain to its deadline
    this.lifecycle.onShutdown(() => this.closeAll());
  }

  stats(): StreamStats {
    return { clients: this.clients.size, timers: this.timers.size, running: this.unsubscribe !== null, cursor: this.cursor };
  }

  /**
   * Serves one stream on `res` (headers not yet sent). Resolves once the stream is live (or
   * over); throws only before the headers are written (the database could not be read).
   */
  async open(res: ServerResponse, filter: StreamFilter, after: number | null): Promise<void> {
    if (this.lifecycle.shuttingDown) {
      writeHeaders(res);
      res.end(RETRY);
      return;
    }
    // The hub's cursor is read before this client registers: every event it fans out from now on
    // reaches the client, and every one it fanned out before is committed, so the replay sees it.
    const c: Client = { res, filter, sentId: 0, live: false, buffer: [], bufferGen: 0, closed: false, timers: [] };
    this.opening += 1;
    try {
      await this.start();
      this.clients.add(c);
    } finally {
      this.opening -= 1;
    }
    writeHeaders(res);
    this.metrics.sseOpened();
    c.timers.push(this.every(this.config.stream.keepAliveMs, () => this.send(c, KEEP_ALIVE)));
    c.timers.push(this.once(this.config.stream.maxDurationMs, () => this.close(c, 'retry')));
    res.on('close', () => this.close(c, 'gone'));
    if (!res.socket || res.socket.destroyed) {
      this.close(c, 'gone'); // the client left while the hub was starting
      return;
    }
    try {
      c.sentId = after ?? (await this.events.lastId());
      for (;;) {
        const gen = c.bufferGen;
        const page = await this.events.findAfter({ after: c.sentId, types: filter.types, orgId: filter.orgId, limit: PAGE });
        for (const e of page) {
          if (!(await this.writeAwaitingDrain(c, frameOf(e).text))) {
            return;
          }
          c.sentId = e.id;
        }
        if (c.closed) {
          return;
        }
        if (page.length < PAGE && gen === c.bufferGen) {
          break;
        }
      }
      c.live = true;
      const buffered = c.buffer;
      c.buffer = [];
      for (const f of buffered) {
        this.deliver(c, f);
      }
    } catch (err) {
      this.log.warn({ err }, 'event stream replay failed; the client is told to reconnect');
      this.close(c, 'retry');
    }
  }

  /** A transient event (not logged, no id, not replayable) to the clients that asked for its type. */
  publishTransient(type: TransientType, orgId: number | null, data: Record<string, unknown>): void {
    if (this.clients.size === 0) {
      return;
    }
    const body = { type, created_at: new Date().toISOString(), organization_id: orgId, data };
    this.fanOut({ id: null, type, orgId, text: `event: ${type}\ndata: ${JSON.stringify(body)}\n\n` });
  }

  /** Every open stream ends with `retry: 1000` (shutdown): clients reconnect elsewhere and resume. */
  closeAll(): void {
    for (const c of [...this.clients]) {
      this.close(c, 'retry');
    }
  }

  onModuleDestroy(): void {
    this.closeAll();
    this.stop();
  }

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const gen = ++this.gen;
      try {
        const cursor = await this.events.lastId();
        if (gen !== this.gen) {
          return;
        }
        this.cursor = cursor;
        this.unsubscribe = this.signal.subscribe((id) => {
          if (id === null || id > this.cursor) {
            void this.pump();
          }
        });
        this.pollTimer = this.every(POLL_MS, () => void this.pump());
      } catch (err) {
        this.starting = null;
        throw err;
      }
    })();
    return this.starting;
  }

  /** No clients left: no signal, no poll; the next client starts again from the newest id. */
  private stop(): void {
    this.gen += 1;
    this.starting = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pollTimer) {
      this.clear(this.pollTimer);
      this.pollTimer = null;
    }
  }

  /** Reads the log after the cursor until it is exhausted; a signal during a read asks for one more round. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    const gen = this.gen;
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const page = await this.events.findAfter({ after: this.cursor, limit: PAGE });
          if (gen !== this.gen) {
            return;
          }
          for (const e of page) {
            this.cursor = e.id;
            this.fanOut(frameOf(e));
          }
          if (page.length < PAGE) {
            break;
          }
        }
      } while (this.pumpAgain);
    } catch (err) {
      this.log.warn({ err }, 'reading the event log for the stream failed; the next signal or poll retries');
    } finally {
      this.pumping = false;
      if (this.pumpAgain && this.unsubscribe !== null) {
        void this.pump();
      }
    }
  }

  private fanOut(f: Frame): void {
    for (const c of this.clients) {
      this.deliver(c, f);
    }
  }

  private deliver(c: Client, f: Frame): void {
    if (c.closed || !matches(c.filter, f)) {
      return;
    }
    if (!c.live) {
      c.buffer.push(f);
      if (c.buffer.length > REPLAY_BUFFER_MAX) {
        c.buffer = [];
        c.bufferGen += 1;
      }
      return;
    }
    if (f.id !== null) {
      if (f.id <= c.sentId) {
        return;
      }
      c.sentId = f.id;
    }
    this.send(c, f.text);
  }

  /** A live write: never waits; a client that lets more than MAX_QUEUED_BYTES pile up is cut off. */
  private send(c: Client, text: string): void {
    if (c.closed) {
      return;
    }
    c.res.write(text);
    if (c.res.writableLength > MAX_QUEUED_BYTES) {
      this.log.warn({ queued: c.res.writableLength }, 'event stream client does not read; disconnected');
      this.close(c, 'slow');
    }
  }

  /** A replay write: waits for the socket to drain, so a replay never queues more than a page. */
  private async writeAwaitingDrain(c: Client, text: string): Promise<boolean> {
    if (c.closed) {
      return false;
    }
    if (!c.res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          c.res.off('drain', done);
          c.res.off('close', done);
          resolve();
        };
        c.res.on('drain', done);
        c.res.on('close', done);
      });
    }
    return !c.closed;
  }

  private close(c: Client, how: 'retry' | 'gone' | 'slow'): void {
    if (c.closed) {
      return;
    }
    c.closed = true;
    c.buffer = [];
    c.timers.forEach((t) => this.clear(t));
    this.clients.delete(c);
    this.metrics.sseClosed();
    if (how === 'slow') {
      c.res.destroy();
    } else if (how === 'retry' && !c.res.writableEnded) {
      c.res.end(RETRY);
    } else if (!c.res.writableEnded) {
      c.res.end();
    }
    if (this.clients.size === 0 && this.opening === 0) {
      this.stop();
    }
  }

  private every(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private once(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private clear(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}

function writeHeaders(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.socket?.setNoDelay(true);
  res.flushHeaders();
}
