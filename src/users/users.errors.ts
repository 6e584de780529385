import { ValidationError } from '../common/errors';

/** DRF's UniqueValidator wording for `lims_user.email` (spec §4.2). */
export const EMAIL_TAKEN = 'user with this email already exists.';

export function emailTakenError(): ValidationError {
  return ValidationError.field('email', EMAIL_TAKEN);
}
