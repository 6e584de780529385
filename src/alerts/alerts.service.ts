import { Injectable } from '@nestjs/common';
import type { RefCheck } from '../common/body-validation';
import { type DomainError, NotFoundError, ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import { mapForeignKeyViolation, type ListResult } from '../common/wire';
import { UnitOfWork } from '../database/unit-of-work';
import { EventsService } from '../events/events.service';
import { CamerasRepository } from '../sites/cameras.repository';
import { SiteGraph } from '../sites/site-graph';
import type { Alert } from './alert.entity';
import { AlertClosedError, NoSnapshotError } from './alerts.errors';
import { AlertsRepository } from './alerts.repository';
import { SnapshotsRepository } from './snapshots.repository';
import type { AlertFilter, CreateAlertInput, UpdateAlertInput } from './dto/alert.input';

/** Alert CRUD (spec §4.3). Who may change which field is the controller's check, as for @Roles. */
@Injectable()
export class AlertsService {
  constructor(
    private readonly alerts: AlertsRepository,
    private readonly graph: SiteGraph,
    private readonly cameras: CamerasRepository,
    private readonly events: EventsService,
    private readonly uow: UnitOfWork,
    private readonly snapshots: SnapshotsRepository,
  ) {}

  /** The existence checks of the `zone_id` and `camera_id` fields (DRF's `Invalid pk`). */
  refChecks(): { zone_id: RefCheck; camera_id: RefCheck } {
    return { zone_id: (id) => this.graph.zoneExists(id), camera_id: (id) => this.graph.cameraExists(id) };
  }

  list(page: Page, filter: AlertFilter): Promise<ListResult<Alert>> {
    return this.alerts.findPage(page, filter);
  }

  async get(id: number): Promise<Alert> {
    const alert = await this.alerts.findById(id);
    if (!alert) {
      throw new NotFoundError('Alert');
    }
    return alert;
  }

  /** `input` passed the existence checks; the camera must belong to the zone. */
  async create(input: CreateAlertInput): Promise<Alert> {
    const { zoneId, cameraId } = input;
    if (cameraId !== null) {
      const camera = await this.cameras.findById(cameraId);
      if (!camera) {
        // deleted since the existence check
        throw (await this.vanishedRefs(input)) ?? ValidationError.invalidPk('camera_id', input.sent.camera_id);
      }
      if (camera.zoneId !== zoneId) {
        throw ValidationError.field('camera_id', 'Camera does not belong to this zone.');
      }
    }
    // a zone or camera deleted after the checks above: the same 400 as had it gone before
    const gone = (column: 'zone_id' | 'camera_id') => async (): Promise<DomainError> =>
      (await this.vanishedRefs(input)) ?? ValidationError.invalidPk(column, input.sent[column]);
    try {
      // an alert created OPEN is an opened alert for whoever listens (ALERTING.md §1)
      return await this.uow.run(async (tx) => {
        const alert = await this.alerts.insert({ heading: input.heading, subHeading: input.subHeading, status: input.status, zoneId, cameraId }, {}, tx);
        if (alert.status === 'OPEN') {
          await this.events.emitAlert('alert.opened', alert, { detected_people: null }, tx);
        }
        return alert;
      });
    } catch (err) {
      // mapped after the rollback: the lookups must not wait for the transaction's connection
      throw await mapForeignKeyViolation(err, { zone_id: gone('zone_id'), camera_id: gone('camera_id') });
    }
  }

  /**
   * PUT and PATCH alike; reopening onto an existing open alert is a 409. A status change writes
   * its event in the same transaction: CLOSED → `alert.resolved` (manual), OPEN → `alert.reopened`.
   */
  async update(id: number, patch: UpdateAlertInput, userId: number): Promise<Alert> {
    return this.uow.run(async (tx) => {
      const before = await this.alerts.findById(id, tx, { forUpdate: true });
      if (!before) {
        throw new NotFoundError('Alert');
      }
      await this.alerts.update(id, patch, tx);
      const changed = patch.status !== undefined && patch.status !== before.status;
      if (changed && patch.status === 'CLOSED') {
        await this.alerts.markManuallyResolved(id, userId, tx);
      } else if (changed) {
        await this.alerts.markReopened(id, tx);
      }
      const after = (await this.alerts.findById(id, tx))!;
      if (changed) {
        if (after.status === 'CLOSED') {
          await this.events.emitAlert('alert.resolved', after, { resolution: 'manual' }, tx);
        } else {
          await this.events.emitAlert('alert.reopened', after, {}, tx);
        }
      }
      return after;
    });
  }

  /**
   * ALERTING.md §5: the first acknowledgement of an OPEN alert is recorded and told
   * (`alert.acknowledged`); a repeat returns the alert unchanged; a CLOSED alert is a 409.
   */
  async acknowledge(id: number, userId: number): Promise<Alert> {
    return this.uow.run(async (tx) => {
      const acked = await this.alerts.acknowledge(id, userId, tx);
      if (acked) {
        await this.events.emitAlert('alert.acknowledged', acked, { user_id: userId }, tx);
        return acked;
      }
      const current = await this.alerts.findById(id, tx);
      if (!current) {
        throw new NotFoundError('Alert');
      }
      if (current.status === 'CLOSED') {
        throw new AlertClosedError();
      }
      return current;
    });
  }

  /** The alert's snapshot JPEG (404 for an unknown alert, then for one without a snapshot). */
  async snapshot(id: number): Promise<Buffer> {
    const image = await this.snapshots.find(id);
    if (image) {
      return image;
    }
    if (!(await this.alerts.findById(id))) {
      throw new NotFoundError('Alert');
    }
    throw new NoSnapshotError();
  }

  /** Deleting an alert is told as `alert.deleted` with the alert as it was (docs/alerting.md). */
  async remove(id: number): Promise<void> {
    await this.uow.run(async (tx) => {
      const before = await this.alerts.findById(id, tx, { forUpdate: true });
      if (!before || !(await this.alerts.delete(id, tx))) {
        throw new NotFoundError('Alert');
      }
      await this.events.emitAlert('alert.deleted', before, {}, tx);
    });
  }

  /**
   * `Invalid pk` for every referenced row that no longer exists, as validation reports them
   * (deleting a zone takes its cameras, so both fields may fail); null when both still exist.
   */
  private async vanishedRefs(input: CreateAlertInput): Promise<ValidationError | null> {
    const fields: Record<string, string[]> = {};
    if (!(await this.graph.zoneExists(input.zoneId))) {
      fields.zone_id = [ValidationError.invalidPkMessage(input.sent.zone_id)];
    }
    if (input.cameraId !== null && !(await this.graph.cameraExists(input.cameraId))) {
      fields.camera_id = [ValidationError.invalidPkMessage(input.sent.camera_id)];
    }
    return Object.keys(fields).length ? new ValidationError(fields) : null;
  }
}
