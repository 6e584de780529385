import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { SitesModule } from '../sites/sites.module';
import { AlertClaimService } from './alert-claim.service';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';

/** Alert CRUD (spec §4.3) and the race-free open-alert claim used by detection. */
@Module({
  imports: [SitesModule, EventsModule],
  controllers: [AlertsController],
  providers: [AlertsRepository, AlertClaimService, AlertsService],
  exports: [AlertClaimService],
})
export class AlertsModule {}
