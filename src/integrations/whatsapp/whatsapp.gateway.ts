/**
 * A self-hosted WhatsApp gateway (ALERTING.md §3): one text to one phone number. Implementations
 * speak one gateway's HTTP shape each (WAHA, GOWA); the delivery channel sees only this.
 */
export interface WhatsAppGateway {
  send(phoneE164: string, text: string): Promise<GatewayResult>;
}

/** What one send gave. Never holds the gateway's response body. */
export interface GatewayResult {
  /** the gateway answered 2xx: it accepted the message */
  ok: boolean;
  /** HTTP status of the answer, null when none arrived */
  status: number | null;
  /** short reason for a failure (`timeout`, `connection refused`, `HTTP 500`, `redirect not followed`); null on success */
  error: string | null;
  /** no answer within the time limit: the gateway may have sent the message anyway */
  timedOut: boolean;
}

/** The chat id digits of an E.164 number (`+2348012345678` → `2348012345678`). */
export function phoneDigits(phoneE164: string): string {
  return phoneE164.replace(/^\+/, '');
}

/** A phone number fit for logs: country prefix and the last 3 digits (`+234*******678`). */
export function maskPhone(phoneE164: string): string {
  const d = phoneDigits(phoneE164);
  if (d.length <= 6) {
    return '+' + '*'.repeat(d.length);
  }
  return `+${d.slice(0, 3)}${'*'.repeat(d.length - 6)}${d.slice(-3)}`;
}
