import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '../database/columns';

@Entity({ name: 'lims_carbonlog' })
export class CarbonLog {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: number;

  @Column({ name: 'zone_id', type: 'bigint', transformer: bigintToNumber })
  zoneId!: number;

  /** the head-count ratio detected / gemini_count, no unit */
  @Column({ name: 'saved_amount', type: 'double precision' })
  savedAmount!: number;

  @Column({ type: 'timestamptz' })
  timestamp!: Date;
}
