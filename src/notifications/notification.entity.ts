import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A global broadcast shown to every operator. */
@Entity({ name: 'lims_notification' })
export class Notification {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: number;

  @Column({ type: 'varchar', length: 255 })
  title!: string;

  @Column({ type: 'text' })
  message!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
