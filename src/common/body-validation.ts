import { ValidationError } from './errors';
import { validateBody, type Parsed, type Schema } from './validation';

/** Tells whether a referenced row exists (the `Invalid pk` check of a DRF PrimaryKeyRelatedField). */
export type RefCheck = (id: number) => Promise<boolean>;

/**
 * validateBody plus existence checks for pk fields, reporting every failing field at once,
 * as DRF does (its related fields check existence during field validation).
 */
export async function validateWithRefs<S extends Schema>(
  body: unknown,
  schema: S,
  opts: { partial: boolean },
  refs: Partial<Record<keyof S & string, RefCheck>>,
): Promise<Parsed<S>> {
  validateBody(body, {}, opts); // rejects non-object bodies with DRF's non_field_errors message
  const input = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const errors: Record<string, string[]> = {};
  for (const [key, spec] of Object.entries(schema)) {
    try {
      Object.assign(out, validateBody(body, { [key]: spec }, opts));
    } catch (err) {
      if (!(err instanceof ValidationError)) {
        throw err;
      }
      Object.assign(errors, err.fields);
    }
  }
  for (const [key, exists] of Object.entries(refs) as [string, RefCheck | undefined][]) {
    const id = out[key];
    if (exists && typeof id === 'number' && !(await exists(id))) {
      errors[key] = [`Invalid pk "${String(input[key]).trim()}" - object does not exist.`];
    }
  }
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return out as Parsed<S>;
}

/** Runs several query-parameter parsers and reports all of their errors at once. */
export function collectErrors<T extends unknown[]>(...parsers: { [K in keyof T]: () => T[K] }): T {
  const errors: Record<string, string[]> = {};
  const out = parsers.map((parse) => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ValidationError)) {
        throw err;
      }
      Object.assign(errors, err.fields);
      return undefined;
    }
  });
  if (Object.keys(errors).length) {
    throw new ValidationError(errors);
  }
  return out as T;
}
