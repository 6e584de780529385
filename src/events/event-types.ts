/** The event types of ALERTING.md §1 (plus `alert.deleted`, docs/alerting.md). */
export const ALERT_EVENT_TYPES = ['alert.opened', 'alert.reopened', 'alert.acknowledged', 'alert.reminder', 'alert.resolved', 'alert.deleted'] as const;
export const CAMERA_EVENT_TYPES = ['camera.offline', 'camera.online'] as const;
/** What webhooks, recipients, `GET /events/` and the stream may ask for; `webhook.test` is never listed or streamed. */
export const SUBSCRIBABLE_EVENT_TYPES = [...ALERT_EVENT_TYPES, ...CAMERA_EVENT_TYPES] as const;
export const TEST_EVENT_TYPE = 'webhook.test';

export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];
export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];
export type EventType = SubscribableEventType | typeof TEST_EVENT_TYPE;

/** The envelope of §1, identical on webhooks, on the stream and on `GET /events/`. */
export interface EventEnvelope {
  id: number;
  type: EventType;
  created_at: string;
  organization_id: number | null;
  data: Record<string, unknown>;
}

export function isSubscribableType(t: string): t is SubscribableEventType {
  return (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(t);
}
