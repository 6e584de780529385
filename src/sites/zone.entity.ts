import { Column, Entity, JoinColumn, ManyToOne, OneToMany } from 'typeorm';
import { bigintId, PrimaryBigintId } from '../database/id.transformer';
import type { Camera } from './camera.entity';
import type { Organization } from './organization.entity';

@Entity({ name: 'lims_zone' })
export class Zone {
  @PrimaryBigintId()
  id!: number;

  @Column({ name: 'organization_id', type: 'bigint', transformer: bigintId })
  organizationId!: number;

  @ManyToOne('Organization', 'zones', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Organization;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'zone_type', type: 'varchar', length: 100 })
  zoneType!: string;

  @Column({ type: 'integer' })
  capacity!: number;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  latitude!: string | null;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  longitude!: string | null;

  @OneToMany('Camera', 'zone')
  cameras?: Camera[];
}
