import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { NotFoundError, ValidationError } from '../common/errors';
import type { Page, Schema } from '../common/validation';
import { validateWithRefs } from '../common/body-validation';
import { Camera } from './camera.entity';
import { generateDeviceKey } from './device-key';
import type { CameraDto, CameraWithKeyDto, DeviceKeyDto } from './dto/site.dto';
import { SiteGraph } from './site-graph';
import { presentCamera } from './sites.presenter';
import { definedOnly, mapForeignKeyViolation, type ListResult } from '../common/wire';

const CAMERA_FIELDS = {
  name: { kind: 'string', max: 255, required: true },
  zone_id: { kind: 'pk', required: true },
  is_active: { kind: 'bool', default: true },
} satisfies Schema;

@Injectable()
export class CamerasService {
  constructor(
    @InjectRepository(Camera) private readonly cameras: Repository<Camera>,
    private readonly graph: SiteGraph,
  ) {}

  async list(page: Page, filter: { zoneId?: number }): Promise<ListResult<CameraDto>> {
    const [rows, total] = await this.cameras.findAndCount({
      where: filter.zoneId === undefined ? {} : { zoneId: filter.zoneId },
      order: { id: 'ASC' },
      skip: page.offset,
      take: page.limit,
    });
    return { items: await this.present(rows), total };
  }

  async get(id: number): Promise<CameraDto> {
    return this.presentOne(await this.load(id));
  }

  /** The device key is returned here once; only its SHA-256 is stored. */
  async create(body: unknown): Promise<CameraWithKeyDto> {
    const v = await validateWithRefs(body, CAMERA_FIELDS, { partial: false }, { zone_id: (id) => this.graph.zoneExists(id) });
    const zoneGone = (): ValidationError => ValidationError.invalidPk('zone_id', (body as Record<string, unknown>).zone_id);
    const { key, hash } = generateDeviceKey();
    const now = new Date();
    let camera: Camera;
    try {
      camera = await this.cameras.save(
        this.cameras.create({
          zoneId: v.zone_id,
          name: v.name,
          isActive: v.is_active ?? true,
          createdAt: now,
          apiKeyHash: hash,
          apiKeyCreatedAt: now,
        }),
      );
    } catch (err) {
      // the zone was deleted after the existence check
      throw await mapForeignKeyViolation(err, { zone_id: zoneGone });
    }
    try {
      return { ...(await this.presentOne(camera)), device_key: key };
    } catch (err) {
      // inserted, then its zone (or organization) was deleted before we read it back
      throw err instanceof NotFoundError ? zoneGone() : err;
    }
  }

  /** PUT and PATCH alike; `zone_id` moves the camera. 404 before body validation. */
  async update(id: number, body: unknown): Promise<CameraDto> {
    await this.load(id);
    const v = await validateWithRefs(body, CAMERA_FIELDS, { partial: true }, { zone_id: (zid) => this.graph.zoneExists(zid) });
    const patch = definedOnly({ zoneId: v.zone_id, name: v.name, isActive: v.is_active });
    if (Object.keys(patch).length) {
      try {
        await this.cameras.update({ id }, patch);
      } catch (err) {
        // the target zone was deleted after the existence check; if the camera itself went,
        // the update matched no row and get() below answers 404
        throw await mapForeignKeyViolation(err, { zone_id: () => ValidationError.invalidPk('zone_id', (body as Record<string, unknown>).zone_id) });
      }
    }
    return this.get(id);
  }

  async remove(id: number): Promise<void> {
    const res = await this.cameras.createQueryBuilder().delete().from(Camera).where('id = :id', { id }).returning('id').execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Camera');
    }
  }

  /** Replaces the stored hash in one statement, so the previous key stops working at once. */
  async rotateKey(id: number): Promise<DeviceKeyDto> {
    const { key, hash } = generateDeviceKey();
    const res = await this.cameras
      .createQueryBuilder()
      .update(Camera)
      .set({ apiKeyHash: hash, apiKeyCreatedAt: new Date() })
      .where('id = :id', { id })
      .returning('id')
      .execute();
    if (!(res.raw as unknown[]).length) {
      throw new NotFoundError('Camera');
    }
    return { id, device_key: key };
  }

  private async load(id: number): Promise<Camera> {
    const camera = await this.cameras.findOneBy({ id });
    if (!camera) {
      throw new NotFoundError('Camera');
    }
    return camera;
  }

  private async presentOne(camera: Camera): Promise<CameraDto> {
    const [dto] = await this.present([camera]);
    if (!dto) {
      throw new NotFoundError('Camera'); // its zone was deleted meanwhile
    }
    return dto;
  }

  private async present(rows: Camera[]): Promise<CameraDto[]> {
    const zones = await this.graph.zonesById(rows.map((c) => c.zoneId));
    const orgs = await this.graph.organizationsById([...zones.values()].map((z) => z.organizationId));
    // a row whose zone or organization vanished between the queries is being cascade-deleted: skip it
    return rows.flatMap((c) => {
      const zone = zones.get(c.zoneId);
      const org = zone && orgs.get(zone.organizationId);
      return zone && org ? [presentCamera(c, zone, org)] : [];
    });
  }
}
