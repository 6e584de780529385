import { createHmac, randomBytes } from 'node:crypto';

// Standard Webhooks v1 (https://www.standardwebhooks.com/), as ALERTING.md §2 asks: the reference
// verifier (npm `standardwebhooks`) accepts what this signs.

const PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` with the key base64-decoded from after `whsec_`. */
export function signatureV1(secret: string, msgId: string, timestampSec: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestampSec}.${body}`, 'utf8').digest('base64')}`;
}

/** The three Standard Webhooks headers; several secrets (during a rotation) give space-separated signatures. */
export function standardWebhookHeaders(msgId: string, timestampSec: number, body: string, secrets: string[]): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': secrets.map((s) => signatureV1(s, msgId, timestampSec, body)).join(' '),
  };
}
