import { collectErrors } from '../../../common/body-validation';
import { parseOptionalIdQuery } from '../../../common/validation';
import { parseAfter, parseTypes } from '../../dto/event-query';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../event-types';

/** Types a stream may ask for: the logged ones, plus the transient `zone.occupancy` (§6). */
export const STREAM_TYPES: readonly string[] = [...SUBSCRIBABLE_EVENT_TYPES, 'zone.occupancy'];

export interface StreamQuery {
  /** replay the log after this id first; null = live only, after the newest id at connect time */
  after: number | null;
  types?: string[];
  orgId?: number;
}

function given(v: unknown): boolean {
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return s !== undefined && String(s).trim() !== '';
}

/**
 * `GET /events/stream`: `Last-Event-ID` (what an EventSource sends on reconnect) wins over
 * `?after=`; `?types=`, `?org_id=`; all errors at once.
 */
export function parseStreamQuery(query: Record<string, unknown>, lastEventId: unknown): StreamQuery {
  const [after, types, orgId] = collectErrors(
    () => (given(lastEventId) ? parseAfter(lastEventId, 'Last-Event-ID') : given(query.after) ? parseAfter(query.after) : null),
    () => parseTypes(query.types, STREAM_TYPES),
    () => parseOptionalIdQuery(query, 'org_id'),
  );
  return { after, types, orgId };
}

/** `?ticket=`: the last value given, or undefined. */
export function ticketOf(query: Record<string, unknown>): string | undefined {
  const v = query.ticket;
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof s === 'string' ? s : undefined;
}
