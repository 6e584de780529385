import { Injectable } from '@nestjs/common';
import { mapForeignKeyViolation, type VanishedParentErrors } from '../common/wire';
import { UnitOfWork } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import { AlertsRepository, type ClaimResult } from './alerts.repository';

export type { ClaimResult } from './alerts.repository';

/** The open-alert claim detection uses (spec §5); the race-free SQL lives in AlertsRepository.claimOpen. */
@Injectable()
export class AlertClaimService {
  constructor(
    private readonly alerts: AlertsRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * The OPEN alert of (zone, camera): inserted by this call (`created`, with its `alert.opened`
   * event in the same transaction), or the one already open. `vanished` answers for a zone or
   * camera deleted before the insert (a foreign-key violation), once the transaction is over:
   * its lookups must not wait for the connection the transaction holds.
   */
  async claimOpenAlert(
    zoneId: number,
    cameraId: number | null,
    heading: string,
    subHeading: string,
    detectedPeople: number,
    vanished: VanishedParentErrors = {},
  ): Promise<ClaimResult> {
    try {
      return await this.uow.run(async (tx) => {
        const claim = await this.alerts.claimOpen({ zoneId, cameraId, heading, subHeading }, {}, tx);
        if (claim.created) {
          await this.events.emitAlert('alert.opened', claim.alert, { detected_people: detectedPeople }, tx);
        }
        return claim;
      });
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanished);
    }
  }
}
