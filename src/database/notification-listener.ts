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
 * LISTEN on named channels: one dedicated PostgreSQL connection (outside the pool, which would
 * hand it to requests) that reconnects with backoff, or the embedded database's in-process
 * LISTEN. After every (re)connect each handler gets `null`: whatever was notified meanwhile is
 * lost, so its reader should look at the data itself.
 */
@Injectable()
export class NotificationListener implements OnModuleDestroy {
  private readonly log: AppLogger;
  private client: Client | null = null;
  /** connected and LISTENing on every channel in `handlers` */
  private ready = false;
  private readonly unlisten: (() => Promise<void>)[] = [];
  private stopped = false;
  private retry = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly handlers = new Map<string, NotificationHandler>();

  constructor(
    private readonly config: AppConfig,
    private readonly ds: DataSource,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'NotificationListener' });
  }

  /** Starts listening on `channel` (one handler per channel); never throws for a database that is down (it keeps retrying). */
  async listen(channel: string, handler: NotificationHandler): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) {
      throw new Error(`bad channel name ${channel}`);
    }
    if (this.handlers.has(channel)) {
      throw new Error(`channel ${channel} already has a listener`);
    }
    this.handlers.set(channel, handler);
    const driver = (this.ds.options as { driver?: unknown }).driver;
    if (this.config.db.kind === 'embedded' && isEmbeddedDriver(driver)) {
      this.unlisten.push(await driver.listen(channel, (payload) => handler(payload)));
      return;
    }
    if (this.client === null && this.reconnectTimer === null) {
      void this.connect();
    } else if (this.ready && this.client) {
      const client = this.client;
      await client.query(`LISTEN ${channel}`).catch((err: unknown) => {
        this.log.warn({ err }, 'LISTEN failed; reconnecting');
        this.scheduleReconnect(client);
      });
    }
    // else: a connect is under way or scheduled, and it LISTENs on every channel in `handlers`
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
    }
    await Promise.all(this.unlisten.map((u) => u().catch(() => undefined)));
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
      this.handlers.get(n.channel)?.(n.payload ?? null);
    });
    this.client = client;
    this.ready = false;
    try {
      await client.connect();
      const channels = [...this.handlers.keys()];
      for (const channel of channels) {
        await client.query(`LISTEN ${channel}`);
      }
      if (this.client !== client) {
        return;
      }
      this.ready = true;
      // a channel added while this connect ran
      for (const channel of this.handlers.keys()) {
        if (!channels.includes(channel)) {
          await client.query(`LISTEN ${channel}`);
        }
      }
      if (this.retry > 0) {
        this.log.info('listen connection restored');
      }
      this.retry = 0;
      for (const h of this.handlers.values()) {
        h(null);
      }
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
    this.ready = false;
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
