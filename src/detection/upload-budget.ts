import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { DomainError } from '../common/errors';

export const serverBusy = (): DomainError =>
  new DomainError('service_unavailable', 'Server busy, retry shortly', { envelope: 'error', headers: { 'Retry-After': '1' } });

/** The bytes one request holds against the process-wide budget; released once when its response closes. */
export interface UploadLease {
  /** counts `n` more bytes held; throws 503 busy when the process would go over its budget */
  add(n: number): void;
  release(): void;
}

/**
 * Caps the upload bytes held in memory at once by this process (spec §11 MAX_INFLIGHT_UPLOAD_BYTES),
 * so 80 concurrent 10 MiB uploads cannot push the instance past its memory limit: past the
 * budget a request gets 503 + Retry-After: 1 instead of being buffered.
 */
@Injectable()
export class UploadBudget {
  private used = 0;

  constructor(private readonly config: AppConfig) {}

  lease(): UploadLease {
    let held = 0;
    let released = false;
    return {
      add: (n) => {
        if (released) {
          return;
        }
        if (this.used + n > this.config.limits.maxInflightUploadBytes) {
          throw serverBusy();
        }
        this.used += n;
        held += n;
      },
      release: () => {
        if (!released) {
          released = true;
          this.used -= held;
          held = 0;
        }
      },
    };
  }
}
