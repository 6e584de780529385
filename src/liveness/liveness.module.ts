import { Module } from '@nestjs/common';
import { CameraLiveness } from './camera-liveness.service';

/** Camera liveness: last_seen_at, the offline sweep and its events (ALERTING.md §6). */
@Module({
  providers: [CameraLiveness],
  exports: [CameraLiveness],
})
export class LivenessModule {}
