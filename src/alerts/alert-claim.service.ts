import { Injectable } from '@nestjs/common';
import type { VanishedParentErrors } from '../common/wire';
import { AlertsRepository, type ClaimResult } from './alerts.repository';

export type { ClaimResult } from './alerts.repository';

/** The open-alert claim detection uses (spec §5); the race-free SQL lives in AlertsRepository.claimOpen. */
@Injectable()
export class AlertClaimService {
  constructor(private readonly alerts: AlertsRepository) {}

  /**
   * The OPEN alert of (zone, camera): inserted by this call (`created`), or the one already open.
   * `vanished` answers for a zone or camera deleted before the insert (a foreign-key violation).
   */
  claimOpenAlert(zoneId: number, cameraId: number | null, heading: string, subHeading: string, vanished?: VanishedParentErrors): Promise<ClaimResult> {
    return this.alerts.claimOpen({ zoneId, cameraId, heading, subHeading }, vanished);
  }
}
