import type { RefCheck } from '../../common/body-validation';
import { validateWithRefs } from '../../common/body-validation';
import type { Schema } from '../../common/validation';
import { validateBody } from '../../common/validation';
import { ALERT_STATUSES, type AlertStatus } from '../alert.entity';

/** What POST /alerts/ asks for, validated. */
export interface CreateAlertInput {
  heading: string;
  subHeading: string | null;
  status: AlertStatus;
  zoneId: number;
  cameraId: number | null;
  /**
   * The ids as the client wrote them (`"007"`): a zone or camera deleted after validation
   * answers the very `Invalid pk "…"` message validation would have given.
   */
  sent: { zone_id: string; camera_id: string | null };
}

/** PUT and PATCH alike: only the fields sent. */
export interface UpdateAlertInput {
  heading?: string;
  subHeading?: string | null;
  status?: AlertStatus;
}

/** GET /alerts/ filters, AND-combined. */
export interface AlertFilter {
  status?: AlertStatus;
  orgId?: number;
  zoneId?: number;
}

const TEXT_MAX = Number.MAX_SAFE_INTEGER;

const CREATE_FIELDS = {
  heading: { kind: 'string', max: 255, required: true },
  sub_heading: { kind: 'string', max: TEXT_MAX, nullable: true, allowBlank: true },
  status: { kind: 'choice', choices: ALERT_STATUSES, default: 'OPEN' },
  zone_id: { kind: 'pk', required: true },
  camera_id: { kind: 'pk', nullable: true },
} satisfies Schema;

const UPDATE_FIELDS = {
  heading: CREATE_FIELDS.heading,
  sub_heading: CREATE_FIELDS.sub_heading,
  status: { kind: 'choice', choices: ALERT_STATUSES },
} satisfies Schema;

/** The POST body, with DRF's errors for every failing field, `Invalid pk` ones included. */
export async function parseCreateAlert(body: unknown, refs: { zone_id: RefCheck; camera_id: RefCheck }): Promise<CreateAlertInput> {
  const v = await validateWithRefs(body, CREATE_FIELDS, { partial: false }, refs);
  const raw = body as Record<string, unknown>;
  const cameraId = v.camera_id ?? null;
  return {
    heading: v.heading!,
    subHeading: v.sub_heading ?? null,
    status: (v.status ?? 'OPEN') as AlertStatus,
    zoneId: v.zone_id!,
    cameraId,
    sent: { zone_id: String(raw.zone_id).trim(), camera_id: cameraId === null ? null : String(raw.camera_id).trim() },
  };
}

/** The PUT/PATCH body; `zone_id` and `camera_id` are ignored (an alert does not move). */
export function parseUpdateAlert(body: unknown): UpdateAlertInput {
  const v = validateBody(body, UPDATE_FIELDS, { partial: true });
  return { heading: v.heading, subHeading: v.sub_heading, status: v.status as AlertStatus | undefined };
}

/**
 * Whether the body would change `heading` or `sub_heading` of `current` (the ADMIN-only fields).
 * Read from the raw body because the 403 comes before any 400; a value sent back unchanged, even
 * with surrounding blanks, is no change.
 */
export function changesText(body: unknown, current: { heading: string; subHeading: string | null }): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return false;
  }
  const input = body as Record<string, unknown>;
  return changes(input.heading, current.heading) || changes(input.sub_heading, current.subHeading);
}

function changes(raw: unknown, current: string | null): boolean {
  if (raw === undefined) {
    return false;
  }
  if (raw === null) {
    return current !== null;
  }
  return typeof raw !== 'string' || (raw !== current && raw.trim() !== current);
}
