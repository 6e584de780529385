import { isoTimestamp } from '../common/wire';
import type { Alert } from './alert.entity';
import type { AlertDto } from './dto/alert.dto';

/** An alert on the wire (spec §4.3): Django's snake_case names, ISO timestamps. */
export function presentAlert(a: Alert): AlertDto {
  return {
    id: a.id,
    heading: a.heading,
    sub_heading: a.subHeading,
    status: a.status,
    created_at: isoTimestamp(a.createdAt),
    updated_at: isoTimestamp(a.updatedAt),
    zone_id: a.zoneId,
    camera_id: a.cameraId,
  };
}
