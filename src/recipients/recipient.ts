import type { SubscribableEventType } from '../events/event-types';

/** A WhatsApp alert recipient (ALERTING.md §3), a row of `ecoflow_alert_recipient`. */
export interface Recipient {
  id: number;
  /** E.164, e.g. `+2348012345678` */
  phone: string;
  name: string;
  /** null: every organization */
  organizationId: number | null;
  eventTypes: SubscribableEventType[];
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}
