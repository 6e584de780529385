import { Injectable } from '@nestjs/common';
import type { Alert } from '../alerts/alert.entity';
import { presentAlert } from '../alerts/alerts.presenter';
import { AppConfig } from '../config/config';
import type { Tx } from '../database/unit-of-work';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { Metrics } from '../observability/metrics.service';
import { CamerasRepository } from '../sites/cameras.repository';
import { OrganizationsRepository } from '../sites/organizations.repository';
import { ZonesRepository } from '../sites/zones.repository';
import type { AlertEventType, EventEnvelope, EventType } from './event-types';
import { EventsRepository, type EventQuery } from './events.repository';

/**
 * Writes events (ALERTING.md §1) inside the caller's transaction, with their deliveries: a
 * rolled-back change leaves neither, a committed one always has both.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly zones: ZonesRepository,
    private readonly orgs: OrganizationsRepository,
    private readonly cameras: CamerasRepository,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Appends the event and its deliveries; make it the transaction's last write (events.repository.ts). */
  async emit(type: EventType, organizationId: number | null, data: Record<string, unknown>, tx: Tx): Promise<EventEnvelope> {
    const event = await this.events.append(type, organizationId, data, tx);
    await this.deliveries.fanOut(event, { whatsapp: this.config.whatsapp.provider !== null }, tx);
    tx.onCommit(() => this.metrics.eventCommitted(type));
    return event;
  }

  /** An alert event with the alert context of §1 (`alert` as on GET /alerts/{id}/), read in `tx`. */
  async emitAlert(type: AlertEventType, alert: Alert, extra: Record<string, unknown>, tx: Tx): Promise<EventEnvelope | null> {
    const zone = alert.zoneId === null ? null : await this.zones.findById(alert.zoneId, tx);
    if (!zone) {
      return null; // a legacy alert without a zone: nothing to say about where
    }
    const org = await this.orgs.findById(zone.organizationId, tx);
    const camera = alert.cameraId === null ? null : await this.cameras.findById(alert.cameraId, tx);
    const data = {
      alert: presentAlert(alert),
      zone: { id: zone.id, name: zone.name, capacity: zone.capacity },
      organization: { id: zone.organizationId, name: org?.name ?? null },
      camera: camera ? { id: camera.id, name: camera.name } : null,
      ...extra,
    };
    return this.emit(type, zone.organizationId, data, tx);
  }

  list(q: EventQuery): Promise<EventEnvelope[]> {
    return this.events.findAfter(q);
  }
}
