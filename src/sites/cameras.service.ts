import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { CamerasRepository } from './cameras.repository';
import { generateDeviceKey } from './device-key';
import type { CreateCameraInput, UpdateCameraInput } from './dto/site.input';
import { SiteGraph, type CameraDetail } from './site-graph';

/** A device key as issued: shown to the caller once, only its SHA-256 is stored. */
export interface IssuedDeviceKey {
  cameraId: number;
  key: string;
}

@Injectable()
export class CamerasService {
  constructor(
    private readonly cameras: CamerasRepository,
    private readonly graph: SiteGraph,
  ) {}

  async list(page: Page, filter: { zoneId?: number }): Promise<ListResult<CameraDetail>> {
    const { items, total } = await this.cameras.findPage(page, filter);
    return { items: await this.graph.cameraDetails(items), total };
  }

  async get(id: number): Promise<CameraDetail> {
    const camera = await this.cameras.findById(id);
    const [detail] = camera ? await this.graph.cameraDetails([camera]) : [];
    if (!detail) {
      throw new NotFoundError('Camera'); // or its zone was deleted meanwhile
    }
    return detail;
  }

  /** 404 unless it exists: PUT and PATCH answer that before validating the body (spec §2). */
  async assertExists(id: number): Promise<void> {
    if (!(await this.cameras.exists(id))) {
      throw new NotFoundError('Camera');
    }
  }

  /** The `zone_id` check of the body validation (through SiteGraph, which tests hook). */
  zoneExists(id: number): Promise<boolean> {
    return this.graph.zoneExists(id);
  }

  /** The device key is returned here once; only its SHA-256 is stored. */
  async create(input: CreateCameraInput): Promise<{ detail: CameraDetail; key: IssuedDeviceKey }> {
    const { key, hash } = generateDeviceKey();
    const now = new Date();
    const camera = await this.cameras.insert({ ...input, createdAt: now, apiKeyHash: hash, apiKeyCreatedAt: now });
    const [detail] = await this.graph.cameraDetails([camera]);
    if (!detail) {
      // inserted, then its zone (or organization) was deleted before we read it back
      throw ValidationError.invalidPk('zone_id', input.zoneId);
    }
    return { detail, key: { cameraId: camera.id, key } };
  }

  /** PUT and PATCH alike; `zoneId` moves the camera. A camera deleted meanwhile answers 404. */
  async update(id: number, input: UpdateCameraInput): Promise<CameraDetail> {
    await this.cameras.update(id, input);
    return this.get(id);
  }

  async remove(id: number): Promise<void> {
    if (!(await this.cameras.delete(id))) {
      throw new NotFoundError('Camera');
    }
  }

  /** The previous key stops working at once. */
  async rotateKey(id: number): Promise<IssuedDeviceKey> {
    const { key, hash } = generateDeviceKey();
    if (!(await this.cameras.replaceKeyHash(id, hash, new Date()))) {
      throw new NotFoundError('Camera');
    }
    return { cameraId: id, key };
  }
}
