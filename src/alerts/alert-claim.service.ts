import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Alert } from './alert.entity';

export interface ClaimResult {
  alert: Alert;
  /** true when this call inserted the alert, false when an open one already existed */
  created: boolean;
}

/** a raw lims_alert row; int8 arrives as a number (PGlite, and pg's INT8 parser in data-source-options.ts) */
interface AlertRow {
  id: number;
  camera_id: number | null;
  zone_id: number | null;
  heading: string;
  sub_heading: string | null;
  status: 'OPEN' | 'CLOSED';
  created_at: Date;
  updated_at: Date;
}

function toAlert(r: AlertRow): Alert {
  return Object.assign(new Alert(), {
    id: r.id,
    cameraId: r.camera_id,
    zoneId: r.zone_id,
    heading: r.heading,
    subHeading: r.sub_heading,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/**
 * The race-free "one OPEN alert per (zone, camera)" claim (spec §5): INSERT … ON CONFLICT DO
 * NOTHING against lims_alert_one_open_uniq, then read the winner. Never check-then-insert.
 */
@Injectable()
export class AlertClaimService {
  constructor(private readonly ds: DataSource) {}

  async claimOpenAlert(zoneId: number, cameraId: number | null, heading: string, subHeading: string): Promise<ClaimResult> {
    // Two tries: if the existing open alert is closed between our insert and our read, insert again.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const now = new Date();
      const inserted = (await this.ds.query(
        `INSERT INTO lims_alert (heading, sub_heading, status, created_at, updated_at, zone_id, camera_id)
         VALUES ($1, $2, 'OPEN', $3, $3, $4, $5)
         ON CONFLICT (zone_id, (COALESCE(camera_id, 0))) WHERE status = 'OPEN' AND zone_id IS NOT NULL DO NOTHING
         RETURNING *`,
        [heading, subHeading, now, zoneId, cameraId],
      )) as AlertRow[];
      if (inserted.length) {
        return { alert: toAlert(inserted[0]), created: true };
      }
      const existing = (await this.ds.query(
        `SELECT * FROM lims_alert WHERE zone_id = $1 AND COALESCE(camera_id, 0) = COALESCE($2::bigint, 0) AND status = 'OPEN' LIMIT 1`,
        [zoneId, cameraId],
      )) as AlertRow[];
      if (existing.length) {
        return { alert: toAlert(existing[0]), created: false };
      }
    }
    throw new Error(`could not claim or find an open alert for zone ${zoneId}, camera ${cameraId ?? 'none'}`);
  }
}
