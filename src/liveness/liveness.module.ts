import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { CameraLiveness } from './camera-liveness.service';
import { LivenessSweepWorker } from './liveness-sweep.worker';
import { LivenessRepository } from './liveness.repository';

/**
 * Camera liveness: last_seen_at, the offline sweep and its events (ALERTING.md §6). Reads and
 * writes lims_camera with its own statements, so it needs only EventsModule (not SitesModule,
 * which stays free of a dependency back on this module).
 */
@Module({
  imports: [EventsModule],
  providers: [LivenessRepository, CameraLiveness, LivenessSweepWorker],
  exports: [CameraLiveness],
})
export class LivenessModule {}
