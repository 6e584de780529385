import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role, User } from '../users/user.entity';

export const IS_PUBLIC = 'ecoflow:isPublic';
export const REQUIRED_ROLE = 'ecoflow:requiredRole';

/** Opts a route out of the global JWT guard. Every use must be on the spec's public list (§4.2). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Requires a role beyond "any valid access token"; the guard answers 403 otherwise. */
export const Roles = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLE, role);

/** The authenticated user, loaded from the database by the guard on every request. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): User | undefined => {
  return ctx.switchToHttp().getRequest<{ user?: User }>().user;
});
