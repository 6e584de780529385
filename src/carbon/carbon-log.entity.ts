import { Column, Entity } from 'typeorm';
import { bigintId, PrimaryBigintId } from '../database/id.transformer';

@Entity({ name: 'lims_carbonlog' })
export class CarbonLog {
  @PrimaryBigintId()
  id!: number;

  @Column({ name: 'zone_id', type: 'bigint', transformer: bigintId })
  zoneId!: number;

  /** the head-count ratio detected / gemini_count, no unit */
  @Column({ name: 'saved_amount', type: 'double precision' })
  savedAmount!: number;

  @Column({ type: 'timestamptz' })
  timestamp!: Date;
}
