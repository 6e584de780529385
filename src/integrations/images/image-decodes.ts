import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { DecodeLimiter } from '../gemini/decode-limiter';

/** The process's decode limiter for Gemini's image preparation (IMAGE_DECODE_CONCURRENCY). */
@Injectable()
export class ImageDecodes extends DecodeLimiter {
  constructor(config: AppConfig) {
    super(config.limits.imageDecodeConcurrency);
  }
}

/**
 * Alert snapshots decode in a lane of their own, one at a time per process: a detection that
 * opens an alert must not wait behind the NORMAL path's Gemini decodes, which saturate
 * IMAGE_DECODE_CONCURRENCY under load (ALERTING.md §5: the DANGER answer may get slower by the
 * snapshot's own encoding, no more). Decode memory is then bounded by one slot more.
 */
@Injectable()
export class SnapshotDecodes extends DecodeLimiter {
  constructor() {
    super(1);
  }
}
