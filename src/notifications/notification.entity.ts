import { Column, Entity } from 'typeorm';
import { PrimaryBigintId } from '../database/id.transformer';

/** A global broadcast shown to every operator. */
@Entity({ name: 'lims_notification' })
export class Notification {
  @PrimaryBigintId()
  id!: number;

  @Column({ type: 'varchar', length: 255 })
  title!: string;

  @Column({ type: 'text' })
  message!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
