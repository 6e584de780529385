import { Column, Entity, OneToMany } from 'typeorm';
import { PrimaryBigintId } from '../database/id.transformer';
import type { Zone } from './zone.entity';

@Entity({ name: 'lims_organization' })
export class Organization {
  @PrimaryBigintId()
  id!: number;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'org_type', type: 'varchar', length: 100 })
  orgType!: string;

  @Column({ name: 'total_capacity', type: 'integer' })
  totalCapacity!: number;

  /** numeric(9,6) comes back from the driver as a string, e.g. "40.712800" */
  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  latitude!: string | null;

  @Column({ type: 'numeric', precision: 9, scale: 6, nullable: true })
  longitude!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @OneToMany('Zone', 'organization')
  zones?: Zone[];
}
