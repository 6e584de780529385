import { Module } from '@nestjs/common';
import { StreamModule } from '../events/stream/stream.module';
import { OccupancyPurgeWorker } from './occupancy-purge.worker';
import { OccupancyRelay } from './occupancy-relay';
import { OccupancyController } from './occupancy.controller';
import { OccupancyRepository } from './occupancy.repository';
import { OccupancyService } from './occupancy.service';

/** Live board, history, roll-up and reading purges, the stream's zone.occupancy (ALERTING.md §6). */
@Module({
  imports: [StreamModule],
  controllers: [OccupancyController],
  providers: [OccupancyRepository, OccupancyService, OccupancyPurgeWorker, OccupancyRelay],
  exports: [OccupancyPurgeWorker],
})
export class OccupancyModule {}
