import { Global, Module } from '@nestjs/common';
import { NotificationListener } from '../database/notification-listener';
import { EventSignal } from '../events/event-signal';
import { EventsRepository } from '../events/events.repository';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryChannels } from './delivery-channels';
import { DeliveryWorker } from './delivery.worker';

/**
 * The event log's storage, its commit signal and the outbox worker: global, because every
 * feature that changes alerts writes events, and webhooks/WhatsApp register their channels here.
 */
@Global()
@Module({
  providers: [NotificationListener, EventsRepository, EventSignal, DeliveriesRepository, DeliveryChannels, DeliveryWorker],
  // NotificationListener: the process's one LISTEN connection, shared by every channel
  exports: [NotificationListener, EventsRepository, EventSignal, DeliveriesRepository, DeliveryChannels, DeliveryWorker],
})
export class DeliveryModule {}
