import { Column, Entity } from 'typeorm';
import { bigintId, PrimaryBigintId } from '../database/id.transformer';

export type AlertStatus = 'OPEN' | 'CLOSED';
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
}
