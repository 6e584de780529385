import { occupancyPercentage } from '../detection/rounding';
import type { EventEnvelope } from '../events/event-types';

/**
 * The WhatsApp texts of ALERTING.md §3, one line each, built from an event envelope alone (pure:
 * no clock, no database). Names are used as stored, except that line breaks and other control
 * characters become spaces, so a text is always one line. Times are the event's, `HH:MM` UTC.
 *
 * Texts §3 does not give (docs/alerting.md):
 * - `alert.opened` without a head count (an admin created the alert OPEN):
 *   `Overcrowding reported in <zone> (<org>) at <HH:MM> UTC: <heading>. Alert #<id>.`
 *   (`: <heading>` left out when the heading is empty; at most 200 characters of it)
 * - `alert.reopened`: `Reopened: overcrowding in <zone> (<org>) at <HH:MM> UTC. Alert #<id>.`
 * - `alert.acknowledged`: `Acknowledged: <zone> (<org>), alert #<id> acknowledged at <HH:MM> UTC.`
 * - `alert.deleted`: `Deleted: <zone> (<org>), alert #<id> deleted at <HH:MM> UTC.`
 * Null for anything else (`webhook.test`): nothing to send.
 */
export function whatsAppText(event: EventEnvelope): string | null {
  const d = event.data;
  const at = hhmm(event.created_at);
  if (event.type === 'camera.offline' || event.type === 'camera.online') {
    const camera = name(obj(d.camera).name);
    const zone = name(obj(d.zone).name);
    if (event.type === 'camera.online') {
      return `Camera ${camera} in ${zone} is back online.`;
    }
    const since = typeof d.last_seen_at === 'string' ? hhmm(d.last_seen_at) : at;
    return `Camera ${camera} in ${zone} is offline since ${since} UTC.`;
  }
  const alert = obj(d.alert);
  const zoneObj = obj(d.zone);
  const zone = name(zoneObj.name);
  const org = name(obj(d.organization).name);
  const id = String(alert.id ?? '?');
  switch (event.type) {
    case 'alert.opened': {
      const people = d.detected_people;
      const capacity = zoneObj.capacity;
      if (typeof people === 'number') {
        const cap = typeof capacity === 'number' ? capacity : 0;
        const pct = cap > 0 ? occupancyPercentage(people, cap) : 'n/a';
        return `Overcrowding in ${zone} (${org}): ${people}/${cap} people (${pct}) at ${at} UTC. Alert #${id}.`;
      }
      const heading = oneLine(typeof alert.heading === 'string' ? alert.heading : '')
        .slice(0, 200)
        .replace(/[\s.]+$/, '');
      return `Overcrowding reported in ${zone} (${org}) at ${at} UTC${heading ? `: ${heading}` : ''}. Alert #${id}.`;
    }
    case 'alert.reminder':
      return `Still overcrowded in ${zone} (${org}), not yet acknowledged. Alert #${id}.`;
    case 'alert.resolved':
      return `Resolved: ${zone} (${org}), alert #${id} closed ${d.resolution === 'auto' ? 'automatically' : 'manually'} at ${at} UTC.`;
    case 'alert.reopened':
      return `Reopened: overcrowding in ${zone} (${org}) at ${at} UTC. Alert #${id}.`;
    case 'alert.acknowledged':
      return `Acknowledged: ${zone} (${org}), alert #${id} acknowledged at ${at} UTC.`;
    case 'alert.deleted':
      return `Deleted: ${zone} (${org}), alert #${id} deleted at ${at} UTC.`;
    case 'webhook.test':
      return null;
  }
}

/** `HH:MM` of an ISO timestamp, in UTC. */
export function hhmm(iso: string): string {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? '--:--' : t.toISOString().slice(11, 16);
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function name(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? oneLine(String(v)) : '?';
}

/** Line breaks and other control characters (C0, C1, U+2028/9) become single spaces. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}
