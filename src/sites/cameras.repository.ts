import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { TableRepository, type Tx } from '../database/unit-of-work';
import { Camera } from './camera.entity';
import { groupBy } from './group-by';

/** The columns a new camera is written with (the id is generated). */
export type NewCamera = Omit<Camera, 'id' | 'zone' | 'lastSeenAt' | 'offlineAnnounced'>;
export type CameraPatch = Partial<Pick<Camera, 'zoneId' | 'name' | 'isActive'>>;

/** Every query of `lims_camera`, device-key lookups included. */
@Injectable()
export class CamerasRepository extends TableRepository<Camera> {
  protected readonly entity = Camera;

  constructor(ds: DataSource) {
    super(ds);
  }

  /** Id ascending, optionally of one zone (an unknown one gives an empty page). */
  async findPage(page: Page, filter: { zoneId?: number }, tx?: Tx): Promise<ListResult<Camera>> {
    const [items, total] = await this.repo(tx).findAndCount({
      where: filter.zoneId === undefined ? {} : { zoneId: filter.zoneId },
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
    return { items, total };
  }

  /** Per zone, its cameras id ascending (one query for a whole page). */
  async findByZoneIds(zoneIds: number[], tx?: Tx): Promise<Map<number, Camera[]>> {
    if (!zoneIds.length) {
      return new Map();
    }
    const rows = await this.repo(tx).find({ where: { zoneId: In(zoneIds) }, order: { id: 'ASC' } });
    return groupBy(rows, (c) => c.zoneId);
  }

  /**
   * The camera whose stored key hash is `hash`, with its zone in the same query: a device posts
   * for its own zone, so the sensor's zone lookup usually needs no second round trip (`camera.zone`).
   */
  findByKeyHashWithZone(hash: string, tx?: Tx): Promise<Camera | null> {
    return this.repo(tx).createQueryBuilder('c').leftJoinAndSelect('c.zone', 'z').where('c.apiKeyHash = :hash', { hash }).getOne();
  }

  /** A zone deleted after the caller's existence check answers 400 `Invalid pk`, not 500. */
  insert(values: NewCamera, tx?: Tx): Promise<Camera> {
    return this.insertRow(values, { zone_id: () => ValidationError.invalidPk('zone_id', values.zoneId) }, tx);
  }

  /**
   * Matches no row when the camera itself is gone (the caller's read-back answers 404); a target
   * zone deleted after the existence check answers 400 `Invalid pk`.
   */
  update(id: number, patch: CameraPatch, tx?: Tx): Promise<void> {
    return this.updateRow(id, patch, { zone_id: () => ValidationError.invalidPk('zone_id', patch.zoneId) }, tx);
  }

  /** Replaces the stored hash in one statement, so the previous key stops working at once. False when there is no such camera. */
  async replaceKeyHash(id: number, hash: string, at: Date, tx?: Tx): Promise<boolean> {
    const res = await this.repo(tx)
      .createQueryBuilder()
      .update(Camera)
      .set({ apiKeyHash: hash, apiKeyCreatedAt: at })
      .where('id = :id', { id })
      .returning('id')
      .execute();
    return (res.raw as unknown[]).length > 0;
  }
}
