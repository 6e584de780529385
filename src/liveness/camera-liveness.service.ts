import { Injectable } from '@nestjs/common';
import type { Camera } from '../sites/camera.entity';

/** Camera liveness (ALERTING.md §6). */
@Injectable()
export class CameraLiveness {
  /** A camera's authenticated upload arrived. */
  async seen(_camera: Camera): Promise<void> {
    // filled in by the liveness slice
  }
}
