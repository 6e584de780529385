import { Inject, Injectable } from '@nestjs/common';
import { AlertClaimService } from '../alerts/alert-claim.service';
import { CarbonLogService } from '../carbon/carbon-log.service';
import type { DomainError } from '../common/errors';
import type { VanishedParentErrors } from '../common/wire';
import { LOGGER, type AppLogger } from '../common/logger';
import { UNREACHABLE_ID } from '../common/validation';
import { AppConfig } from '../config/config';
import { CameraLiveness } from '../liveness/camera-liveness.service';
import { sanitizeFilename } from '../integrations/crowd-prediction/crowd-prediction.client';
import { CrowdPredictionClient } from '../integrations/crowd-prediction/crowd-prediction.client';
import { CrowdPredictionError } from '../integrations/crowd-prediction/crowd-prediction.errors';
import { GeminiClient } from '../integrations/gemini/gemini.client';
import type { Camera } from '../sites/camera.entity';
import { CamerasRepository } from '../sites/cameras.repository';
import { deviceKeyMatches, hashDeviceKey } from '../sites/device-key';
import type { Zone } from '../sites/zone.entity';
import { ZonesRepository } from '../sites/zones.repository';
import { crowdFailure, SensorErrors } from './detection.errors';
import { decodedBytes, dimensionsAllowed, readImageInfo, sniffImageType } from './image-sniff';
import type { RawUpload } from './multipart-upload';
import { missingFields } from './multipart-upload';
import { carbonRatio, occupancyPercentage } from './rounding';
import { ZoneThrottle } from './throttle/zone-throttle.service';

export interface DetectionBase {
  zone: string;
  capacity: number;
  detected_people: number;
  occupancy_percentage: string;
  status: 'NORMAL' | 'DANGER';
}

export type DetectionResponse =
  | (DetectionBase & { alert_created: true; alert_id: number; carbon_message: string })
  | (DetectionBase & { alert_created: false; alert_id: number; alert_message: string; carbon_message: string })
  | (DetectionBase & { carbon_data: CarbonData; alert_created: false })
  | (DetectionBase & { carbon_error: string });

export interface CarbonData {
  filename: string;
  sahi_count: number;
  gemini_count: number;
  calculation_result: number;
  formula: string;
  message: string;
}

/** Who sent the upload: the camera its device key belongs to, or nobody with SENSOR_AUTH=off. */
export type DeviceIdentity = { camera: Camera } | { camera: null };

const DANGER_RATIO = 0.9;
const SKIPPED_GEMINI = 'Skipped Gemini calculation due to overcrowding.';

/**
 * POST /sensor/detect/ (spec §5): the checks of steps 1–9 in order, then the crowd API, then the
 * DANGER (alert) or NORMAL (Gemini + carbon log) branch. Nothing before step 9 touches the
 * throttle or an upstream service, so bad requests cost neither a slot nor quota.
 */
@Injectable()
export class DetectionService {
  private readonly log: AppLogger;

  constructor(
    private readonly config: AppConfig,
    private readonly zones: ZonesRepository,
    private readonly cameras: CamerasRepository,
    private readonly throttle: ZoneThrottle,
    private readonly crowd: CrowdPredictionClient,
    private readonly gemini: GeminiClient,
    private readonly alerts: AlertClaimService,
    private readonly carbon: CarbonLogService,
    private readonly liveness: CameraLiveness,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'DetectionService' });
  }

  get authRequired(): boolean {
    return this.config.sensor.auth === 'required';
  }

  /** Step 1, before the body is read: the camera whose key hash matches `X-Device-Key`. */
  async authenticate(deviceKey: string | undefined): Promise<DeviceIdentity> {
    if (!this.authRequired) {
      return { camera: null };
    }
    const key = deviceKey?.trim() ?? '';
    if (key === '') {
      throw SensorErrors.missingDeviceKey();
    }
    // the camera's zone comes in the same query: a device posts for its own zone, so step 7
    // usually needs no second round trip
    const camera = await this.cameras.findByKeyHashWithZone(hashDeviceKey(key));
    if (!camera || !deviceKeyMatches(key, camera.apiKeyHash)) {
      throw SensorErrors.invalidDeviceKey();
    }
    return { camera };
  }

  /** Steps 3–11 on an upload that already passed the size limit (step 2). */
  async detect(device: DeviceIdentity, upload: RawUpload): Promise<DetectionResponse> {
    // 3. presence
    const zoneRaw = upload.zoneId?.trim() ?? '';
    if (zoneRaw === '' || upload.file === undefined) {
      throw missingFields();
    }
    // 4. integer syntax
    const zoneId = parseIntegerField(zoneRaw, 'zone_id');
    const cameraRaw = upload.cameraId?.trim() ?? '';
    const cameraId = cameraRaw === '' ? null : parseIntegerField(cameraRaw, 'camera_id');
    // 5–6. magic bytes, then header dimensions (nothing decoded)
    const image = upload.file.buffer;
    if (sniffImageType(image) === null) {
      throw SensorErrors.unsupportedImage();
    }
    const info = readImageInfo(image);
    if (info === null) {
      throw SensorErrors.unsupportedImage();
    }
    if (!dimensionsAllowed(info) || decodedBytes(info) > this.config.limits.maxDecodeBytes) {
      throw SensorErrors.dimensionsTooLarge();
    }
    // 7. zone
    const own = device.camera?.zone;
    const zone =
      own && own.id === zoneId ? own : zoneId === UNREACHABLE_ID ? null : await this.zones.findById(zoneId);
    if (!zone) {
      throw SensorErrors.zoneNotFound();
    }
    // 8, 8b. camera
    const camera = await this.resolveCamera(device, cameraId);
    if (camera) {
      if (camera.zoneId !== zone.id) {
        throw SensorErrors.cameraOtherZone();
      }
      if (!camera.isActive) {
        throw SensorErrors.cameraInactive();
      }
    }
    // 8c. capacity (the Django version divided by zero here)
    if (zone.capacity <= 0) {
      throw SensorErrors.capacityNotConfigured();
    }
    // 9. per-zone throttle: the slot stays claimed even if a later step fails
    const slot = await this.throttle.claim(zone.id);
    if (!slot.allowed) {
      throw SensorErrors.rateLimited(slot.retryAfterSec);
    }
    // liveness (ALERTING.md §6): an authenticated upload that passed every check; one refused
    // earlier changes nothing (API.md §11: a 4xx leaves no trace)
    if (device.camera) {
      await this.liveness.seen(device.camera);
    }
    // 10. crowd API
    const filename = sanitizeFilename(upload.file.filename, info.mimeType);
    let detected: number;
    try {
      detected = await this.crowd.count({ buffer: image, filename, mimeType: info.mimeType });
    } catch (err) {
      if (err instanceof CrowdPredictionError) {
        throw crowdFailure(err.kind);
      }
      throw err;
    }
    // 11. threshold and branch
    const base: DetectionBase = {
      zone: zone.name,
      capacity: zone.capacity,
      detected_people: detected,
      occupancy_percentage: occupancyPercentage(detected, zone.capacity),
      status: 'NORMAL',
    };
    // the zone or camera was deleted while the detector answered (docs/api-notes.md)
    const gone = (): Promise<DomainError> => this.vanishedDuringDetection(zone.id, camera);
    const vanished = { zone_id: gone, camera_id: gone };
    if (detected >= DANGER_RATIO * zone.capacity) {
      return this.danger({ ...base, status: 'DANGER' }, zone, camera, image, vanished);
    }
    // the reading (and the open alert's calm span) before Gemini: it is the detector's moment
    await this.alerts.recordBelowDanger({ zoneId: zone.id, cameraId: camera?.id ?? null, people: detected, capacity: zone.capacity }, vanished);
    return this.normal(base, zone, image, filename);
  }

  private async resolveCamera(device: DeviceIdentity, cameraId: number | null): Promise<Camera | null> {
    if (device.camera) {
      if (cameraId !== null && cameraId !== device.camera.id) {
        throw SensorErrors.keyCameraMismatch();
      }
      return device.camera;
    }
    if (cameraId === null) {
      return null;
    }
    const camera = cameraId === UNREACHABLE_ID ? null : await this.cameras.findById(cameraId);
    if (!camera) {
      throw SensorErrors.cameraNotFound();
    }
    return camera;
  }

  private async danger(base: DetectionBase, zone: Zone, camera: Camera | null, image: Buffer, vanished: VanishedParentErrors): Promise<DetectionResponse> {
    const { alert, created } = await this.alerts.claimOpenAlert(
      {
        zoneId: zone.id,
        cameraId: camera ? camera.id : null,
        capacity: zone.capacity,
        people: base.detected_people,
        heading: `Overcrowding in ${zone.name}`,
        subHeading: `Detected ${base.detected_people}/${zone.capacity} people. (Cam: ${camera ? camera.id : 'None'})`,
        image,
      },
      vanished,
    );
    if (created) {
      this.log.info({ zone_id: zone.id, camera_id: camera?.id ?? null, alert_id: alert.id, detected: base.detected_people }, 'overcrowding alert opened');
      return { ...base, alert_created: true, alert_id: alert.id, carbon_message: SKIPPED_GEMINI };
    }
    return { ...base, alert_created: false, alert_id: alert.id, alert_message: 'Existing alert still active', carbon_message: SKIPPED_GEMINI };
  }

  /**
   * The answer of §5's first failing step for rows deleted mid-request: step 7 (404 Zone not
   * found) when the zone is gone, which takes its cameras with it; else step 8 for the camera:
   * its device key died with it (401 Invalid device key), or, with SENSOR_AUTH=off, the
   * `camera_id` no longer names one (400 Camera not found).
   */
  private async vanishedDuringDetection(zoneId: number, camera: Camera | null): Promise<DomainError> {
    if (!(await this.zones.exists(zoneId))) {
      return SensorErrors.zoneNotFound();
    }
    if (camera === null) {
      return SensorErrors.zoneNotFound(); // no camera involved: the zone was the only reference
    }
    return this.authRequired ? SensorErrors.invalidDeviceKey() : SensorErrors.cameraNotFound();
  }

  private async normal(base: DetectionBase, zone: Zone, image: Buffer, filename: string): Promise<DetectionResponse> {
    if (!this.gemini.configured) {
      return { ...base, carbon_error: 'Gemini is not configured' };
    }
    try {
      const geminiCount = await this.gemini.countPeople(image, zone.capacity);
      const ratio = carbonRatio(base.detected_people, geminiCount);
      await this.carbon.record(zone.id, ratio);
      return {
        ...base,
        carbon_data: {
          filename,
          sahi_count: base.detected_people,
          gemini_count: geminiCount,
          calculation_result: ratio,
          formula: `${base.detected_people} / ${geminiCount} rounded`,
          message: 'Prediction successful via Gemini API',
        },
        alert_created: false,
      };
    } catch (err) {
      // the cause stays in the log; the client gets the generic message (spec §5, C8)
      this.log.warn({ err, zone_id: zone.id }, 'carbon calculation failed');
      return { ...base, carbon_error: 'Error calling Gemini API' };
    }
  }
}

/** Python's `int()` on a form value: optional sign and digits; ids outside the safe range match nothing. */
function parseIntegerField(raw: string, field: 'zone_id' | 'camera_id'): number {
  if (!/^[+-]?\d+$/.test(raw)) {
    throw SensorErrors.badInteger(field);
  }
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : UNREACHABLE_ID;
}
