import { isoTimestamp } from '../common/wire';
import type { Alert } from './alert.entity';
import type { AlertDto } from './dto/alert.dto';

const iso = (d: Date | null): string | null => (d === null ? null : isoTimestamp(d));

/** An alert on the wire (spec §4.3 and the additive lifecycle fields of ALERTING.md §5). */
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
    acknowledged_at: iso(a.acknowledgedAt),
    acknowledged_by: a.acknowledgedBy,
    resolved_at: iso(a.resolvedAt),
    resolved_by: a.resolvedBy,
    resolution: a.resolution,
    peak_people: a.peakPeople,
    last_people: a.lastPeople,
    last_detected_at: iso(a.lastDetectedAt),
    has_snapshot: a.hasSnapshot,
  };
}
