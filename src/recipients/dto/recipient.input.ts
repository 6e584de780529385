import { validateWithRefs, type RefCheck } from '../../common/body-validation';
import { ValidationError } from '../../common/errors';
import { validateBody, type Schema } from '../../common/validation';
import { definedOnly } from '../../common/wire';
import { parseEventTypeList } from '../../events/dto/event-types.input';
import type { SubscribableEventType } from '../../events/event-types';

// Request bodies of ALERTING.md §3 `/alert-recipients/` → the typed input the service takes.

export const DEFAULT_RECIPIENT_EVENT_TYPES: SubscribableEventType[] = ['alert.opened', 'alert.reminder', 'alert.resolved'];

/** `+`, then 8 to 15 digits, the first not 0. */
const E164 = /^\+[1-9][0-9]{7,14}$/;
const PHONE_MESSAGE = 'Enter a valid phone number in E.164 format.';

// a long value is still a bad phone number (E.164 message), not a long string
const PHONE_FIELD = { phone: { kind: 'string', max: 1000, required: true } } satisfies Schema;

const RECIPIENT_FIELDS = {
  name: { kind: 'string', max: 150, allowBlank: true, default: '' },
  organization_id: { kind: 'pk', nullable: true },
  is_active: { kind: 'bool', default: true },
} satisfies Schema;

export interface CreateRecipientInput {
  phone: string;
  name: string;
  organizationId: number | null;
  eventTypes: SubscribableEventType[];
  isActive: boolean;
}
export type UpdateRecipientInput = Partial<CreateRecipientInput>;

export async function parseCreateRecipient(body: unknown, organizationExists: RefCheck): Promise<CreateRecipientInput> {
  const v = await parse(body, { partial: false }, organizationExists);
  return {
    phone: v.phone!,
    name: v.name ?? '',
    organizationId: v.organizationId ?? null,
    eventTypes: v.eventTypes ?? [...DEFAULT_RECIPIENT_EVENT_TYPES],
    isActive: v.isActive ?? true,
  };
}

/** PUT and PATCH alike: only the fields sent. */
export function parseUpdateRecipient(body: unknown, organizationExists: RefCheck): Promise<UpdateRecipientInput> {
  return parse(body, { partial: true }, organizationExists);
}

async function parse(body: unknown, opts: { partial: boolean }, organizationExists: RefCheck): Promise<UpdateRecipientInput> {
  const errors: Record<string, string[]> = {};
  const collect = async <T>(parse: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await parse();
    } catch (err) {
      if (!(err instanceof ValidationError) || 'non_field_errors' in err.fields) {
        throw err;
      }
      Object.assign(errors, err.fields);
      return undefined;
    }
  };
  const phone = (await collect(() => validateBody(body, PHONE_FIELD, opts)))?.phone;
  if ((typeof phone === 'string' && !E164.test(phone)) || errors.phone?.[0]?.startsWith('Ensure this field has no more than')) {
    errors.phone = [PHONE_MESSAGE];
  }
  const v = (await collect(() => validateWithRefs(body, RECIPIENT_FIELDS, opts, { organization_id: organizationExists }))) ?? {};
  const input = (body ?? {}) as Record<string, unknown>;
  let eventTypes: SubscribableEventType[] | undefined;
  if (Object.prototype.hasOwnProperty.call(input, 'event_types') && input.event_types !== undefined) {
    const r = parseEventTypeList(input.event_types, { allowAll: false });
    if ('errors' in r) {
      errors.event_types = r.errors;
    } else {
      eventTypes = r.value as SubscribableEventType[]; // no "*" without allowAll
    }
  }
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return definedOnly({
    phone: phone ?? undefined,
    name: v.name,
    organizationId: v.organization_id,
    eventTypes,
    isActive: v.is_active,
  });
}
