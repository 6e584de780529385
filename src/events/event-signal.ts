import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { NotificationListener } from '../database/notification-listener';
import { EVENT_CHANNEL } from './events.repository';

/** `id` of a committed event, or null after a reconnect (something may have been missed: read the log). */
export type SignalListener = (eventId: number | null) => void;

/**
 * Wakes this instance's readers of the event log (the stream hub, the delivery worker) when an
 * event commits on any instance: the NOTIFY every event's transaction sends (events.repository.ts).
 * A signal is only a hint: readers always read the log after the last id they saw, so a lost
 * notification (connection cut) costs latency, not events.
 */
@Injectable()
export class EventSignal implements OnModuleInit, OnModuleDestroy {
  private readonly listeners = new Set<SignalListener>();
  private readonly log: AppLogger;

  constructor(
    private readonly listener: NotificationListener,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'EventSignal' });
  }

  /** Calls `listener` for every signal until the returned function is called. */
  subscribe(listener: SignalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onModuleInit(): Promise<void> {
    await this.listener.listen(EVENT_CHANNEL, (payload) => this.emit(payload));
  }

  onModuleDestroy(): void {
    this.listeners.clear();
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
}
