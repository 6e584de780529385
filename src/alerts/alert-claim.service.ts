import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../common/logger';
import { mapForeignKeyViolation, type VanishedParentErrors } from '../common/wire';
import { AppConfig } from '../config/config';
import { UnitOfWork, type Tx } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import { SnapshotDecodes } from '../integrations/images/image-decodes';
import { encodeSnapshot } from '../integrations/images/snapshot';
import { ReadingsRepository, type NewReading } from '../occupancy/readings.repository';
import type { Alert } from './alert.entity';
import { AlertsRepository, type ClaimResult } from './alerts.repository';
import { SnapshotsRepository } from './snapshots.repository';

export type { ClaimResult } from './alerts.repository';

/** What detection knows about an overcrowded zone when it claims its alert. */
export interface DangerDetection {
  zoneId: number;
  cameraId: number | null;
  capacity: number;
  people: number;
  heading: string;
  subHeading: string;
  /** the upload, kept as the alert's snapshot when this detection opens it */
  image: Buffer;
}

/**
 * What detection writes after the threshold step (ALERTING.md §5–6): the reading, and the open
 * alert's lifecycle. A DANGER detection claims the open alert (opening it with its snapshot and
 * `alert.opened`, or updating last/peak people); one below DANGER extends or restarts the calm span
 * that auto-resolves it (C13). All of a detection's writes share one transaction, in a fixed
 * order: the alert, then the reading (which locks the 'occupancy' change-version row, as a zone
 * delete's cascade does: alerts first), then the event (the transaction's last write,
 * events.repository.ts). The reading's time and the calm span's both are the transaction's now().
 */
@Injectable()
export class AlertClaimService {
  private readonly log: AppLogger;

  constructor(
    private readonly alerts: AlertsRepository,
    private readonly snapshots: SnapshotsRepository,
    private readonly readings: ReadingsRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
    private readonly decodes: SnapshotDecodes,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'AlertClaimService' });
  }

  /**
   * The OPEN alert of (zone, camera): inserted by this call (`created`, with its snapshot and its
   * `alert.opened` event in the same transaction), or the one already open. `vanished` answers
   * for a zone or camera deleted before the insert (a foreign-key violation), once the
   * transaction is over: its lookups must not wait for the connection the transaction holds.
   *
   * The snapshot is encoded before the transaction, and only when no alert is open (this
   * detection will most likely open one): encoding waits for the process's decode limiter, and a
   * transaction waiting with it would hold a pool connection (docs/performance.md measured the pool
   * queue that made). When an alert was open at the check but closed by the claim, the snapshot is
   * added right after the commit instead.
   */
  async claimOpenAlert(d: DangerDetection, vanished: VanishedParentErrors = {}): Promise<ClaimResult> {
    const wantSnapshot = this.config.lifecycle.snapshotRetentionDays > 0;
    const early = wantSnapshot && !(await this.alerts.hasOpen(d.zoneId, d.cameraId)) ? await this.snapshot(d.image) : null;
    let claim: ClaimResult;
    try {
      claim = await this.uow.run(async (tx) => {
        const c = await this.alerts.claimOpen({ zoneId: d.zoneId, cameraId: d.cameraId, heading: d.heading, subHeading: d.subHeading, people: d.people }, {}, tx);
        if (c.created && early) {
          await this.snapshots.insert(c.alert.id, early, tx);
          c.alert.hasSnapshot = true;
        }
        await this.recordReading({ zoneId: d.zoneId, cameraId: d.cameraId, people: d.people, capacity: d.capacity, status: 'DANGER' }, tx);
        if (c.created) {
          await this.events.emitAlert('alert.opened', c.alert, { detected_people: d.people }, tx);
        }
        return c;
      });
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanished);
    }
    if (claim.created && wantSnapshot && !early) {
      const late = await this.snapshot(d.image);
      if (late) {
        await this.snapshots.insert(claim.alert.id, late);
        claim.alert.hasSnapshot = true;
      }
    }
    return claim;
  }

  /**
   * A detection below DANGER: its reading, and the calm span of the (zone, camera)'s open alert,
   * which closes it with `resolution: "auto"` once due. Silence writes nothing, so it never resolves.
   */
  async recordBelowDanger(r: Omit<NewReading, 'status'>, vanished: VanishedParentErrors = {}): Promise<void> {
    const { autoResolveAfterMs, resolveRatio } = this.config.lifecycle;
    if (!this.config.occupancy.recordReadings && autoResolveAfterMs === 0) {
      return;
    }
    try {
      await this.uow.run(async (tx) => {
        let closed: Alert | null = null;
        if (autoResolveAfterMs > 0) {
          const calm = r.people < resolveRatio * r.capacity;
          const due = await this.alerts.trackCalm(r.zoneId, r.cameraId, calm, autoResolveAfterMs, tx);
          closed = due === null ? null : await this.alerts.resolve(due, 'auto', null, tx);
        }
        await this.recordReading({ ...r, status: 'NORMAL' }, tx);
        if (closed) {
          await this.events.emitAlert('alert.resolved', closed, { resolution: 'auto' }, tx);
          const { id } = closed;
          tx.onCommit(() => this.log.info({ alert_id: id, zone_id: r.zoneId }, 'alert resolved automatically'));
        }
      });
    } catch (err) {
      throw await mapForeignKeyViolation(err, vanished);
    }
  }

  private async recordReading(r: NewReading, tx: Tx): Promise<void> {
    if (this.config.occupancy.recordReadings) {
      await this.readings.insert(r, tx);
    }
  }

  /** The snapshot's JPEG, or null when the image cannot be encoded (the alert opens anyway). */
  private async snapshot(image: Buffer): Promise<Buffer | null> {
    const limitMs = this.config.limits.imagePrepTimeoutMs;
    try {
      return await this.decodes.run(() => encodeSnapshot(image, limitMs), limitMs);
    } catch (err) {
      this.log.warn({ err }, 'snapshot could not be encoded; the alert opens without one');
      return null;
    }
  }
}
