/** How a detector call failed; the detection service maps each kind to the spec's status (§5). */
export type CrowdFailureKind =
  | 'http_error' // non-2xx → 502 "Crowd Service failed"
  | 'timeout' // → 504 "Crowd API timeout. Please try again."
  | 'connect_error' // refused, DNS, reset, TLS, URL unset, or circuit open → 503 "Cannot connect to Crowd API. Service may be down."
  | 'invalid_response'; // not JSON, > 1 MiB, sahi_count missing/negative/non-numeric → 502 "Crowd Service returned an invalid response"

export class CrowdPredictionError extends Error {
  constructor(
    readonly kind: CrowdFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'CrowdPredictionError';
  }
}

export interface CrowdImage {
  buffer: Buffer;
  /** already sanitized (spec §5) */
  filename: string;
  mimeType: 'image/jpeg' | 'image/png' | 'image/webp';
}
