import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isoTimestamp } from '../common/wire';
import { BaseRepository, type Tx } from '../database/unit-of-work';

/** A camera whose liveness changed, with what `camera.offline`/`camera.online` carry (ALERTING.md §1). */
export interface LivenessTransition {
  organizationId: number;
  data: {
    camera: { id: number; name: string };
    zone: { id: number; name: string };
    organization: { id: number; name: string };
    last_seen_at: string;
  };
}

interface TransitionRow {
  camera_id: number | string;
  camera_name: string;
  zone_id: number | string;
  zone_name: string;
  organization_id: number | string;
  organization_name: string;
  last_seen_at: Date | string;
}

// the zone and organization are joined in the claiming statement: one round trip per batch
const TRANSITION_COLUMNS = `c.id AS camera_id, c.name AS camera_name, z.id AS zone_id, z.name AS zone_name,
  o.id AS organization_id, o.name AS organization_name, c.last_seen_at`;

function toTransition(r: TransitionRow): LivenessTransition {
  const organizationId = Number(r.organization_id);
  return {
    organizationId,
    data: {
      camera: { id: Number(r.camera_id), name: r.camera_name },
      zone: { id: Number(r.zone_id), name: r.zone_name },
      organization: { id: organizationId, name: r.organization_name },
      last_seen_at: isoTimestamp(r.last_seen_at),
    },
  };
}

/**
 * The liveness statements on `lims_camera` (ALERTING.md §6). Each transition is claimed by the
 * row update itself: only the statement that flips `offline_announced` gets the row back, so one
 * event per transition across all instances. No index on `last_seen_at` (every upload writes it;
 * HOT updates matter more): the sweep scans the camera table.
 */
@Injectable()
export class LivenessRepository extends BaseRepository {
  constructor(ds: DataSource) {
    super(ds);
  }

  /**
   * Records an upload of a camera not announced offline. False when nothing matched: the camera
   * was announced offline meanwhile (the caller then claims the online transition), or is gone.
   */
  async touch(cameraId: number): Promise<boolean> {
    const rows = await this.rows(`UPDATE lims_camera SET last_seen_at = now() WHERE id = $1 AND NOT offline_announced RETURNING id`, [cameraId]);
    return rows.length > 0;
  }

  /** Records an upload whatever the camera's state (no row for a camera that is gone). */
  async touchAny(cameraId: number, tx?: Tx): Promise<void> {
    await this.rows(`UPDATE lims_camera SET last_seen_at = now() WHERE id = $1`, [cameraId], tx);
  }

  /**
   * Records an upload of a camera announced offline and claims its online transition: the
   * transition when this statement flipped the flag, null when another instance did or the
   * camera is gone.
   */
  async claimOnline(cameraId: number, tx: Tx): Promise<LivenessTransition | null> {
    const rows = await this.rows<TransitionRow>(
      `UPDATE lims_camera c SET last_seen_at = now(), offline_announced = false
         FROM lims_zone z, lims_organization o
        WHERE c.id = $1 AND c.offline_announced AND z.id = c.zone_id AND o.id = z.organization_id
       RETURNING ${TRANSITION_COLUMNS}`,
      [cameraId],
      tx,
    );
    return rows.length ? toTransition(rows[0]) : null;
  }

  /**
   * Claims up to `limit` active cameras seen once and silent for `offlineAfterMs` that are not yet
   * announced. SKIP LOCKED: two sweeps never claim the same camera nor wait for each other; and
   * a row locked by an upload's update is left for the next sweep, which re-reads last_seen_at.
   * NO KEY UPDATE, like the update itself: alert and reading inserts referencing the camera
   * (KEY SHARE) neither block the sweep nor are blocked by it.
   */
  async claimOffline(offlineAfterMs: number, limit: number, tx: Tx): Promise<LivenessTransition[]> {
    const rows = await this.rows<TransitionRow>(
      `WITH due AS (
         SELECT id FROM lims_camera
          WHERE is_active AND last_seen_at IS NOT NULL AND NOT offline_announced
            AND last_seen_at <= now() - ($1::double precision * interval '1 millisecond')
          ORDER BY id
          LIMIT $2
          FOR NO KEY UPDATE SKIP LOCKED)
       UPDATE lims_camera c SET offline_announced = true
         FROM due, lims_zone z, lims_organization o
        WHERE c.id = due.id AND z.id = c.zone_id AND o.id = z.organization_id
       RETURNING ${TRANSITION_COLUMNS}`,
      [offlineAfterMs, limit],
      tx,
    );
    return rows.map(toTransition);
  }
}
