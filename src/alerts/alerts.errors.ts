import { ConflictError, DomainError } from '../common/errors';

/** 409: the partial unique index `lims_alert_one_open_uniq` allows one OPEN alert per (zone, camera). */
export class OpenAlertExistsError extends ConflictError {
  constructor() {
    super('An open alert already exists for this zone and camera.');
  }
}

/** 409 (ALERTING.md §5): a CLOSED alert cannot be acknowledged. */
export class AlertClosedError extends ConflictError {
  constructor() {
    super('Alert is closed.');
  }
}

/** 404 `{"detail":"No snapshot."}` (ALERTING.md §5): the alert exists but keeps no image. */
export class NoSnapshotError extends DomainError {
  constructor() {
    super('not_found', 'No snapshot.');
  }
}
