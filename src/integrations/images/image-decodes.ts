import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { DecodeLimiter } from '../gemini/decode-limiter';

/**
 * The process's one decode limiter (IMAGE_DECODE_CONCURRENCY): Gemini's image preparation and
 * alert snapshots share it, so together they never decode more images at once than the limit.
 */
@Injectable()
export class ImageDecodes extends DecodeLimiter {
  constructor(config: AppConfig) {
    super(config.limits.imageDecodeConcurrency);
  }
}
