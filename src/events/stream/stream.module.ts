import { Module } from '@nestjs/common';
import { UsersModule } from '../../users/users.module';
import { StreamController } from './stream.controller';
import { StreamHub } from './stream-hub';
import { StreamTicketsRepository } from './stream-tickets.repository';
import { StreamTicketsService } from './stream-tickets.service';

/**
 * The live event stream (ALERTING.md §4): `GET /events/stream` served by this instance's
 * StreamHub, and the single-use tickets that let a browser's EventSource authenticate.
 */
@Module({
  imports: [UsersModule],
  controllers: [StreamController],
  providers: [StreamHub, StreamTicketsRepository, StreamTicketsService],
  exports: [StreamHub],
})
export class StreamModule {}
