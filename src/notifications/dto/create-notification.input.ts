import { validateBody, type Schema } from '../../common/validation';

/** A new broadcast, as the service takes it. */
export interface CreateNotificationInput {
  title: string;
  message: string;
}

const NOTIFICATION_FIELDS = {
  title: { kind: 'string', max: 255, required: true },
  message: { kind: 'string', max: Number.MAX_SAFE_INTEGER, required: true },
} satisfies Schema;

/** Validates a `POST /notifications/` body (DRF error bodies, every failing field at once). */
export function parseCreateNotification(body: unknown): CreateNotificationInput {
  const v = validateBody(body, NOTIFICATION_FIELDS, { partial: false });
  // both fields are required: validateBody has thrown if either is missing
  return { title: v.title!, message: v.message! };
}
