import { ValidationError } from '../../common/errors';
import { validateBody } from '../../common/validation';
import { ROLES, type Role } from '../../users/user.entity';
import { EMAIL_TAKEN } from '../../users/users.errors';

/** POST /auth/login/; `email` trimmed and lowercased (logins are case-insensitive). */
export interface LoginInput {
  email: string;
  password: string;
}

/** POST /auth/refresh/ and /auth/logout/. */
export interface RefreshInput {
  refresh: string;
}

/** POST /auth/register/; `email` normalized, names default to "" and role to USER. */
export interface RegisterInput {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  role: Role;
}

/** Tells whether an account already uses a normalized email (DRF's UniqueValidator on the field). */
export type EmailTakenCheck = (email: string) => Promise<boolean>;

// simplejwt's fields: the password is never trimmed
const LOGIN_SCHEMA = {
  email: { kind: 'string', max: 1000, required: true },
  password: { kind: 'password', min: 1, max: 4096, required: true },
} as const;

const REFRESH_SCHEMA = { refresh: { kind: 'string', max: 4096, required: true } } as const;

const REGISTER_SCHEMA = {
  email: { kind: 'email', max: 254, required: true },
  password: { kind: 'password', min: 8, max: 128, required: true },
  first_name: { kind: 'string', max: 150, allowBlank: true, default: '' },
  last_name: { kind: 'string', max: 150, allowBlank: true, default: '' },
  role: { kind: 'choice', choices: ROLES, default: 'USER' },
} as const;

// validateBody throws unless required fields are present, so the String() calls below only narrow types

export function parseLoginInput(body: unknown): LoginInput {
  const parsed = validateBody(body, LOGIN_SCHEMA, { partial: false });
  return { email: String(parsed.email).toLowerCase(), password: String(parsed.password) };
}

export function parseRefreshInput(body: unknown): RefreshInput {
  const parsed = validateBody(body, REFRESH_SCHEMA, { partial: false });
  return { refresh: String(parsed.refresh) };
}

/**
 * All field errors at once, the uniqueness of a well-formed email included (as DRF reports it).
 * The registration itself checks uniqueness again under its lock.
 */
export async function parseRegisterInput(body: unknown, emailTaken: EmailTakenCheck): Promise<RegisterInput> {
  let errors: Record<string, string[]> = {};
  let parsed: ReturnType<typeof validateBody<typeof REGISTER_SCHEMA>> | null = null;
  try {
    parsed = validateBody(body, REGISTER_SCHEMA, { partial: false });
  } catch (err) {
    if (!(err instanceof ValidationError) || err.fields.non_field_errors) {
      throw err;
    }
    errors = { ...err.fields };
  }
  if (!errors.email) {
    // the email alone is valid even when another field is not: validate it on its own to normalize it
    const email = String(validateBody(body, { email: REGISTER_SCHEMA.email }, { partial: false }).email);
    if (await emailTaken(email)) {
      errors = { email: [EMAIL_TAKEN], ...errors };
    }
  }
  if (Object.keys(errors).length > 0 || !parsed) {
    throw new ValidationError(errors);
  }
  return {
    email: String(parsed.email),
    password: String(parsed.password),
    firstName: String(parsed.first_name ?? ''),
    lastName: String(parsed.last_name ?? ''),
    role: (parsed.role ?? 'USER') as Role,
  };
}
