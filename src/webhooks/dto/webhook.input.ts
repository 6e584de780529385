import { validateWithRefs, type RefCheck } from '../../common/body-validation';
import { ValidationError } from '../../common/errors';
import type { Schema } from '../../common/validation';
import { definedOnly } from '../../common/wire';
import { ALL_EVENTS, parseEventTypeList } from '../../events/dto/event-types.input';

// Request bodies of ALERTING.md §2 → the typed input the service takes. Every failing field is
// reported at once, in Django REST framework's wording where the spec names none.

export const URL_MAX = 2048;

const FIELDS = {
  organization_id: { kind: 'pk', nullable: true },
  description: { kind: 'string', max: 2000, allowBlank: true, default: '' },
  is_active: { kind: 'bool', default: true },
} satisfies Schema;

export interface CreateWebhookInput {
  url: string;
  /** subscribable types, or `['*']` */
  eventTypes: string[];
  organizationId: number | null;
  description: string;
  isActive: boolean;
}
export type UpdateWebhookInput = Partial<CreateWebhookInput>;

export interface WebhookInputRules {
  /** plain http accepted (WEBHOOK_ALLOW_HTTP; on by default outside production) */
  allowHttp: boolean;
}

/** The URL rule of §2: http/https, ≤ 2048 characters, no credentials; https only unless allowed. */
function parseUrl(raw: unknown, rules: WebhookInputRules): { value?: string; error?: string } {
  if (raw === null) {
    return { error: 'This field may not be null.' };
  }
  if (typeof raw !== 'string') {
    return { error: 'Not a valid string.' };
  }
  const s = raw.trim();
  if (s === '') {
    return { error: 'This field may not be blank.' };
  }
  if ([...s].length > URL_MAX) {
    return { error: `Ensure this field has no more than ${URL_MAX} characters.` };
  }
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return { error: 'Enter a valid URL.' };
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.username || u.password || /[\s\p{Cc}]/u.test(s)) {
    return { error: 'Enter a valid URL.' };
  }
  if (u.protocol === 'http:' && !rules.allowHttp) {
    return { error: 'Only https URLs are accepted.' };
  }
  return { value: s };
}

async function parseWebhook(body: unknown, partial: boolean, organizationExists: RefCheck, rules: WebhookInputRules): Promise<UpdateWebhookInput> {
  const errors: Record<string, string[]> = {};
  let fields: Awaited<ReturnType<typeof validateWithRefs<typeof FIELDS>>> = {};
  try {
    fields = await validateWithRefs(body, FIELDS, { partial }, { organization_id: organizationExists });
  } catch (err) {
    if (!(err instanceof ValidationError) || err.fields.non_field_errors) {
      throw err; // not a JSON object at all
    }
    Object.assign(errors, err.fields);
  }
  const input = (body ?? {}) as Record<string, unknown>;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(input, k) && input[k] !== undefined;

  let url: string | undefined;
  if (has('url')) {
    const r = parseUrl(input.url, rules);
    if (r.error) {
      errors.url = [r.error];
    }
    url = r.value;
  } else if (!partial) {
    errors.url = ['This field is required.'];
  }

  let eventTypes: string[] | undefined = partial ? undefined : [ALL_EVENTS];
  if (has('event_types')) {
    const r = parseEventTypeList(input.event_types, { allowAll: true });
    if ('errors' in r) {
      errors.event_types = r.errors;
    } else {
      eventTypes = r.value;
    }
  }
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return definedOnly({
    url,
    eventTypes,
    organizationId: fields.organization_id,
    description: fields.description,
    isActive: fields.is_active,
  });
}

export async function parseCreateWebhook(body: unknown, organizationExists: RefCheck, rules: WebhookInputRules): Promise<CreateWebhookInput> {
  const v = await parseWebhook(body, false, organizationExists, rules);
  return {
    url: v.url!,
    eventTypes: v.eventTypes ?? [ALL_EVENTS],
    organizationId: v.organizationId ?? null,
    description: v.description ?? '',
    isActive: v.isActive ?? true,
  };
}

/** PUT and PATCH alike: only the fields sent. */
export function parseUpdateWebhook(body: unknown, organizationExists: RefCheck, rules: WebhookInputRules): Promise<UpdateWebhookInput> {
  return parseWebhook(body, true, organizationExists, rules);
}
