import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { LOGGER, type AppLogger } from '../common/logger';
import { AppConfig, type DbConfig } from '../config/config';
import { isEmbeddedDriver } from './pglite-pool';

/** A payload of a NOTIFY on the channel, or null after a reconnect (notifications may have been missed). */
export type NotificationHandler = (payload: string | null) => void;

const RECONNECT_MS = [250, 500, 1000, 2000, 5000];

/**
 * LISTEN on one channel: a dedicated PostgreSQL connection (outside the pool, which would hand
 * it to requests) that reconnects with backoff, or the embedded database's in-process LISTEN.
 * After every (re)connect the handler gets `null`: whatever was notified meanwhile is lost, so
 * its reader should look at the data itself.
 */
@Injectable()
export class NotificationListener implements OnModuleDestroy {
  private readonly log: AppLogger;
  private client: Client | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private retry = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private channel = '';
  private handler: NotificationHandler = () => undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'NotificationListener' });
  }

  /** Starts listening; never throws for a database that is down (it keeps retrying). */
  async listen(channel: string, handler: NotificationHandler): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) {
      throw new Error(`bad channel name ${channel}`);
    }
    this.channel = channel;
    this.handler = handler;
    const driver = (this.ds.options as { driver?: unknown }).driver;
    if (this.config.db.kind === 'embedded' && isEmbeddedDriver(driver)) {
      this.unlisten = await driver.listen(channel, (payload) => handler(payload));
      return;
    }
    void this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
    }
    await this.unlisten?.().catch(() => undefined);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) {
      return;
    }
    const client = new Client({ ...clientConfig(this.config.db), application_name: 'ecoflow-backend-listen', keepAlive: true });
    client.on('error', (err) => {
      this.log.warn({ err }, 'listen connection lost');
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    client.on('notification', (n) => {
      if (n.channel === this.channel) {
        this.handler(n.payload ?? null);
      }
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      if (this.retry > 0) {
        this.log.info('listen connection restored');
      }
      this.retry = 0;
      this.handler(null);
    } catch (err) {
      this.log.warn({ err }, 'listen connection could not connect; retrying');
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.client !== client || this.stopped) {
      return;
    }
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
