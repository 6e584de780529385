import { definedOnly } from '../../common/wire';
import { validateBody } from '../../common/validation';
import type { UserNameChanges } from '../users.repository';

/** PUT and PATCH `/auth/me/`: only the names; role, email and is_active are never mass-assigned. */
export type UpdateProfileInput = UserNameChanges;

const PROFILE_SCHEMA = {
  first_name: { kind: 'string', max: 150, allowBlank: true },
  last_name: { kind: 'string', max: 150, allowBlank: true },
} as const;

/** Both verbs are partial (as before): a missing name keeps its value. */
export function parseUpdateProfileInput(body: unknown): UpdateProfileInput {
  const parsed = validateBody(body, PROFILE_SCHEMA, { partial: true });
  return definedOnly({ firstName: parsed.first_name, lastName: parsed.last_name });
}
