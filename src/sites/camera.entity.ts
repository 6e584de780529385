import { Column, Entity, JoinColumn, ManyToOne } from 'typeorm';
import { bigintId, PrimaryBigintId } from '../database/id.transformer';
import type { Zone } from './zone.entity';

@Entity({ name: 'lims_camera' })
export class Camera {
  @PrimaryBigintId()
  id!: number;

  @Column({ name: 'zone_id', type: 'bigint', transformer: bigintId })
  zoneId!: number;

  @ManyToOne('Zone', 'cameras', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'zone_id' })
  zone?: Zone;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** hex SHA-256 of the device key; the key itself is never stored */
  @Column({ name: 'api_key_hash', type: 'char', length: 64, nullable: true, unique: true })
  apiKeyHash!: string | null;

  @Column({ name: 'api_key_created_at', type: 'timestamptz', nullable: true })
  apiKeyCreatedAt!: Date | null;

  /** its last authenticated upload (ALERTING.md §6) */
  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  /** `camera.offline` was emitted and no upload came since: the next one emits `camera.online` */
  @Column({ name: 'offline_announced', type: 'boolean', default: false })
  offlineAnnounced!: boolean;
}
