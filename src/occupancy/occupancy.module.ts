import { Module } from '@nestjs/common';

/** Live board, history, roll-up and reading purges, the stream's zone.occupancy (ALERTING.md §6). */
@Module({})
export class OccupancyModule {}
