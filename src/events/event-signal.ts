import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig, type DbConfig } from '../config/config';
import { isEmbeddedDriver } from '../database/pglite-pool';
import { EVENT_CHANNEL } from './events.repository';

/** `id` of a committed event, or null after a reconnect (something may have been missed: read the log). */
export type SignalListener = (eventId: number | null) => void;

const RECONNECT_MS = [250, 500, 1000, 2000, 5000];

/**
 * Wakes this instance's readers of the event log (the stream hub, the delivery worker) when an
 * event commits on any instance: PostgreSQL LISTEN/NOTIFY on a dedicated connection, or the
 * embedded database's in-process LISTEN. A signal is only a hint: readers always read the log
 * after the last id they saw, so a lost notification (connection cut) costs latency, not events.
 */
@Injectable()
export class EventSignal implements OnModuleInit, OnModuleDestroy {
  private readonly listeners = new Set<SignalListener>();
  private readonly log: AppLogger;
  private client: Client | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private retry = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connected = false;

  constructor(
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'EventSignal' });
  }

  /** Calls `listener` for every signal until the returned function is called. */
  subscribe(listener: SignalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listening(): boolean {
    return this.connected;
  }

  async onModuleInit(): Promise<void> {
    const driver = (this.ds.options as { driver?: unknown }).driver;
    if (this.config.db.kind === 'embedded' && isEmbeddedDriver(driver)) {
      this.unlisten = await driver.listen(EVENT_CHANNEL, (payload) => this.emit(payload));
      this.connected = true;
      return;
    }
    // not awaited: a database that is down at boot must not stop the service from starting
    void this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
    }
    this.listeners.clear();
    await this.unlisten?.().catch(() => undefined);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private emit(payload: string | null): void {
    const id = payload === null ? null : Number(payload);
    for (const l of this.listeners) {
      try {
        l(id !== null && Number.isSafeInteger(id) ? id : null);
      } catch (err) {
        this.log.error({ err }, 'event signal listener failed');
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) {
      return;
    }
    const client = new Client({ ...clientConfig(this.config.db), application_name: 'ecoflow-backend-listen', keepAlive: true });
    client.on('error', (err) => {
      this.log.warn({ err }, 'event listener connection lost');
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    client.on('notification', (n) => {
      if (n.channel === EVENT_CHANNEL) {
        this.emit(n.payload ?? null);
      }
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENT_CHANNEL}`);
      this.connected = true;
      if (this.retry > 0) {
        this.log.info('event listener reconnected');
      }
      this.retry = 0;
      // anything committed while we were not listening is in the log: readers catch up
      this.emit(null);
    } catch (err) {
      this.log.warn({ err }, 'event listener could not connect; retrying');
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.client !== client || this.stopped) {
      return;
    }
    this.connected = false;
    this.client = null;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    const delay = RECONNECT_MS[Math.min(this.retry, RECONNECT_MS.length - 1)];
    this.retry += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}

function clientConfig(db: DbConfig): ClientConfig {
  const common = { connectionTimeoutMillis: db.connectTimeoutMs };
  if (db.kind !== 'postgres') {
    return common;
  }
  return db.url
    ? { ...common, connectionString: db.url }
    : { ...common, host: db.host ?? undefined, port: db.port, database: db.database ?? undefined, user: db.user ?? undefined, password: db.password ?? undefined };
}
