import { Module } from '@nestjs/common';

/** The live event stream (ALERTING.md §4). */
@Module({})
export class StreamModule {}
