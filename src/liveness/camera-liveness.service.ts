import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import type { Camera } from '../sites/camera.entity';
import { LivenessRepository } from './liveness.repository';

/** Camera liveness (ALERTING.md §6): `last_seen_at` on every authenticated upload, `camera.online` after an offline. */
@Injectable()
export class CameraLiveness {
  constructor(
    private readonly liveness: LivenessRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * A camera's authenticated upload arrived. One statement when the camera is not announced
   * offline; otherwise a transaction that clears the flag and, when this instance won that
   * transition, emits `camera.online` with it. A camera deleted meanwhile matches no row and is
   * no error; a database that cannot be reached throws (the upload answers 503, as any step would).
   */
  async seen(camera: Camera): Promise<void> {
    // the flag as read at authentication: the sweep may have set it since, so a miss claims too
    if (!camera.offlineAnnounced && (await this.liveness.touch(camera.id))) {
      return;
    }
    await this.uow.run(async (tx) => {
      const online = await this.liveness.claimOnline(camera.id, tx);
      if (!online) {
        // another upload announced it, or the camera is gone (then this matches nothing either)
        await this.liveness.touchAny(camera.id, tx);
        return;
      }
      await this.events.emit('camera.online', online.organizationId, online.data, tx);
    });
  }
}
