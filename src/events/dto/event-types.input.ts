import { typeName } from '../../common/validation';
import { isSubscribableType, type SubscribableEventType } from '../event-types';

/** `["*"]`: every subscribable type (webhooks only). */
export const ALL_EVENTS = '*';

/**
 * A body's `event_types` (webhooks §2, recipients §3): a non-empty list of the subscribable types
 * of §1 (never `webhook.test`), duplicates dropped, order kept; with `allowAll`, `"*"` too, which
 * among other types means all of them. Errors in DRF's words, each bad value once.
 */
export function parseEventTypeList(raw: unknown, opts: { allowAll: boolean }): { value: Array<SubscribableEventType | typeof ALL_EVENTS> } | { errors: string[] } {
  if (raw === null) {
    return { errors: ['This field may not be null.'] };
  }
  if (!Array.isArray(raw)) {
    return { errors: [`Expected a list of items but got type "${typeName(raw)}".`] };
  }
  if (raw.length === 0) {
    return { errors: ['This list may not be empty.'] };
  }
  const errors = new Set<string>();
  const out: Array<SubscribableEventType | typeof ALL_EVENTS> = [];
  for (const item of raw as unknown[]) {
    // never serialize untrusted structures: name their type
    const s = typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean' ? String(item) : typeName(item);
    if (typeof item === 'string' && (isSubscribableType(item) || (opts.allowAll && item === ALL_EVENTS))) {
      if (!out.includes(item)) {
        out.push(item);
      }
    } else {
      errors.add(`"${s}" is not a valid choice.`);
    }
  }
  if (errors.size) {
    return { errors: [...errors] };
  }
  return { value: out.includes(ALL_EVENTS) ? [ALL_EVENTS] : out };
}
