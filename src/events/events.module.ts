import { Module } from '@nestjs/common';
import { SitesModule } from '../sites/sites.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** The event log's API (ALERTING.md §1) and the service every alert change writes events through. */
@Module({
  imports: [SitesModule],
  controllers: [EventsController],
  providers: [EventsService],
  exports: [EventsService],
})
export class EventsModule {}
