import { Column, Entity } from 'typeorm';
import { PrimaryBigintId } from '../database/id.transformer';

export type Role = 'ADMIN' | 'USER';
export const ROLES: readonly Role[] = ['ADMIN', 'USER'];

/** Django's custom user table; `role` is the only source of rights. */
@Entity({ name: 'lims_user' })
export class User {
  @PrimaryBigintId()
  id!: number;

  @Column({ type: 'varchar', length: 128 })
  password!: string;

  @Column({ name: 'last_login', type: 'timestamptz', nullable: true })
  lastLogin!: Date | null;

  @Column({ name: 'is_superuser', type: 'boolean' })
  isSuperuser!: boolean;

  @Column({ type: 'varchar', length: 150, unique: true })
  username!: string;

  @Column({ name: 'first_name', type: 'varchar', length: 150 })
  firstName!: string;

  @Column({ name: 'last_name', type: 'varchar', length: 150 })
  lastName!: string;

  @Column({ type: 'varchar', length: 254, unique: true })
  email!: string;

  @Column({ name: 'is_staff', type: 'boolean' })
  isStaff!: boolean;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive!: boolean;

  @Column({ name: 'date_joined', type: 'timestamptz' })
  dateJoined!: Date;

  @Column({ type: 'varchar', length: 50 })
  role!: Role;

  @Column({ name: 'eco_points', type: 'integer' })
  ecoPoints!: number;
}
