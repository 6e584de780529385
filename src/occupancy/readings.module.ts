import { Module } from '@nestjs/common';
import { ReadingsRepository } from './readings.repository';

/** The reading writer, for detection and the alert lifecycle (which write readings in their transactions). */
@Module({
  providers: [ReadingsRepository],
  exports: [ReadingsRepository],
})
export class ReadingsModule {}
