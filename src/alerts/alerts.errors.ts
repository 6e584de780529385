import { ConflictError } from '../common/errors';

/** 409: the partial unique index `lims_alert_one_open_uniq` allows one OPEN alert per (zone, camera). */
export class OpenAlertExistsError extends ConflictError {
  constructor() {
    super('An open alert already exists for this zone and camera.');
  }
}
