/** Why the Gemini count failed. Only logged: the client sees the generic carbon_error (§5). */
export type GeminiFailureKind =
  | 'not_configured' // GEMINI_API_KEY unset → "Gemini is not configured"
  | 'http_error' // non-retryable status, or retries exhausted
  | 'timeout' // every attempt timed out / budget spent
  | 'blocked' // promptFeedback.blockReason or no candidate
  | 'unparsable' // no digits, or > 2^53-1
  | 'image_error' // the image could not be prepared
  | 'circuit_open'; // the breaker is open

export class GeminiError extends Error {
  constructor(
    readonly kind: GeminiFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'GeminiError';
  }
}
