import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { ImagesModule } from '../integrations/images/images.module';
import { ReadingsModule } from '../occupancy/readings.module';
import { SitesModule } from '../sites/sites.module';
import { ReminderWorker } from './reminder.worker';
import { SnapshotsRepository } from './snapshots.repository';
import { AlertClaimService } from './alert-claim.service';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';

/** Alert CRUD (spec §4.3) and the race-free open-alert claim used by detection. */
@Module({
  imports: [SitesModule, EventsModule, ReadingsModule, ImagesModule],
  controllers: [AlertsController],
  providers: [AlertsRepository, SnapshotsRepository, AlertClaimService, AlertsService, ReminderWorker],
  exports: [AlertClaimService],
})
export class AlertsModule {}
