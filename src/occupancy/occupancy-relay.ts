import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { NotificationListener } from '../database/notification-listener';
import { StreamHub } from '../events/stream/stream-hub';
import { percentageOf } from './occupancy.service';

/** The channel the reading trigger of migration 1764720000000 NOTIFYs on, after every reading on any instance. */
export const OCCUPANCY_CHANNEL = 'ecoflow_occupancy';

interface ReadingNotice {
  zone_id: number;
  organization_id: number | null;
  people: number;
  capacity: number;
  status: string;
  measured_at: string;
}

function parseNotice(payload: string): ReadingNotice | null {
  try {
    const v = JSON.parse(payload) as Partial<ReadingNotice> | null;
    if (!v || typeof v.zone_id !== 'number' || typeof v.people !== 'number' || typeof v.capacity !== 'number' || typeof v.measured_at !== 'string') {
      return null;
    }
    return {
      zone_id: v.zone_id,
      organization_id: typeof v.organization_id === 'number' ? v.organization_id : null,
      people: v.people,
      capacity: v.capacity,
      status: String(v.status),
      measured_at: v.measured_at,
    };
  } catch {
    return null;
  }
}

/**
 * Relays every committed reading (on any instance) to this instance's stream clients that asked
 * for `zone.occupancy` (ALERTING.md §4, §6): transient, so a reading notified while the listener
 * was reconnecting is simply not streamed (the board has the current value).
 */
@Injectable()
export class OccupancyRelay implements OnModuleInit {
  private readonly log: AppLogger;

  constructor(
    private readonly listener: NotificationListener,
    private readonly hub: StreamHub,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'OccupancyRelay' });
  }

  async onModuleInit(): Promise<void> {
    await this.listener.listen(OCCUPANCY_CHANNEL, (payload) => this.relay(payload));
  }

  relay(payload: string | null): void {
    // null after a reconnect: missed readings are not replayed (transient events); and with no
    // stream client on this instance there is nobody to parse every reading's notice for
    if (payload === null || this.hub.stats().clients === 0) {
      return;
    }
    const n = parseNotice(payload);
    if (!n) {
      this.log.warn('unreadable occupancy notification ignored');
      return;
    }
    this.hub.publishTransient('zone.occupancy', n.organization_id, {
      zone_id: n.zone_id,
      people: n.people,
      capacity: n.capacity,
      occupancy_percentage: percentageOf(n.people, n.capacity),
      status: n.status,
      measured_at: n.measured_at,
    });
  }
}
