import { Column, Entity } from 'typeorm';
import { bigintId, PrimaryBigintId } from '../database/id.transformer';

export type AlertStatus = 'OPEN' | 'CLOSED';
export type AlertResolution = 'manual' | 'auto';
export const ALERT_STATUSES: readonly AlertStatus[] = ['OPEN', 'CLOSED'];

@Entity({ name: 'lims_alert' })
export class Alert {
  @PrimaryBigintId()
  id!: number;

  @Column({ name: 'camera_id', type: 'bigint', nullable: true, transformer: bigintId })
  cameraId!: number | null;

  /** NULL only on rows adopted from the Django version */
  @Column({ name: 'zone_id', type: 'bigint', nullable: true, transformer: bigintId })
  zoneId!: number | null;

  @Column({ type: 'varchar', length: 255 })
  heading!: string;

  @Column({ name: 'sub_heading', type: 'text', nullable: true })
  subHeading!: string | null;

  @Column({ type: 'varchar', length: 20 })
  status!: AlertStatus;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  // lifecycle (ALERTING.md §5)
  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true })
  acknowledgedAt!: Date | null;

  @Column({ name: 'acknowledged_by', type: 'bigint', nullable: true, transformer: bigintId })
  acknowledgedBy!: number | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  /** null when resolved automatically */
  @Column({ name: 'resolved_by', type: 'bigint', nullable: true, transformer: bigintId })
  resolvedBy!: number | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  resolution!: AlertResolution | null;

  @Column({ name: 'peak_people', type: 'int', nullable: true })
  peakPeople!: number | null;

  @Column({ name: 'last_people', type: 'int', nullable: true })
  lastPeople!: number | null;

  @Column({ name: 'last_detected_at', type: 'timestamptz', nullable: true })
  lastDetectedAt!: Date | null;

  /** computed on read: a snapshot row exists */
  hasSnapshot = false;
}
