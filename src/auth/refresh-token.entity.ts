import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintId } from '../database/id.transformer';

/** One row per issued refresh token; rotation revokes the old row, reuse revokes the family. */
@Entity({ name: 'ecoflow_refresh_token' })
export class RefreshToken {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  jti!: string;

  @Column({ name: 'user_id', type: 'bigint', transformer: bigintId })
  userId!: number;

  @Column({ name: 'family_id', type: 'uuid' })
  familyId!: string;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'replaced_by', type: 'varchar', length: 64, nullable: true })
  replacedBy!: string | null;
}
