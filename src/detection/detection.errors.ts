import { DomainError, type ErrorCode, RateLimitedError } from '../common/errors';
import type { CrowdFailureKind } from '../integrations/crowd-prediction/crowd-prediction.errors';

/** The sensor endpoint's own errors: `{"error": …}` bodies with the Django wording (spec §5). */
export function sensorError(code: ErrorCode, message: string): DomainError {
  return new DomainError(code, message, { envelope: 'error' });
}

export const SensorErrors = {
  missingDeviceKey: () => sensorError('unauthenticated', 'Missing device key'),
  invalidDeviceKey: () => sensorError('unauthenticated', 'Invalid device key'),
  badInteger: (field: 'zone_id' | 'camera_id') => sensorError('bad_request', `'${field}' must be an integer`),
  unsupportedImage: () => sensorError('unsupported_media_type', 'Unsupported image type'),
  dimensionsTooLarge: () => sensorError('payload_too_large', 'Image dimensions too large'),
  zoneNotFound: () => sensorError('not_found', 'Zone not found'),
  keyCameraMismatch: () => sensorError('forbidden', 'Device key does not match camera_id'),
  cameraNotFound: () => sensorError('bad_request', 'Camera not found'),
  cameraOtherZone: () => sensorError('forbidden', 'Camera does not belong to this zone'),
  cameraInactive: () => sensorError('forbidden', 'Camera is inactive'),
  capacityNotConfigured: () => sensorError('conflict', 'Zone capacity is not configured'),
  rateLimited: (retryAfterSec: number) => new RateLimitedError('Rate limit exceeded', retryAfterSec, 'error'),
};

/** Crowd API failure → status and message of the spec's table. */
export function crowdFailure(kind: CrowdFailureKind): DomainError {
  switch (kind) {
    case 'http_error':
      return sensorError('upstream_failed', 'Crowd Service failed');
    case 'invalid_response':
      return sensorError('upstream_failed', 'Crowd Service returned an invalid response');
    case 'timeout':
      return sensorError('upstream_timeout', 'Crowd API timeout. Please try again.');
    case 'connect_error':
      return sensorError('upstream_unavailable', 'Cannot connect to Crowd API. Service may be down.');
  }
}
