import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC, REQUIRED_ROLE } from '../common/decorators';
import { PermissionDeniedError, UnauthenticatedError } from '../common/errors';
import type { Role, User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { TokenService } from './token.service';

const ACCEPTS_TICKET = 'ecoflow:acceptsStreamTicket';
/**
 * The route also accepts a single-use `?ticket=` instead of the Bearer header (the event stream,
 * ALERTING.md §4: browsers' EventSource cannot send headers). With a ticket and no Authorization
 * header the guard lets the request through and the route's controller must redeem the ticket.
 */
export const AcceptsStreamTicket = (): MethodDecorator => SetMetadata(ACCEPTS_TICKET, true);

/**
 * The global guard: every route needs a valid access token unless marked @Public().
 * Role and is_active are read from the database on each request, so a demotion or a
 * deactivation takes effect at once.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly users: UsersRepository,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      return true;
    }
    const req = ctx.switchToHttp().getRequest<Request & { user?: User }>();
    if (req.headers.authorization === undefined && req.query?.ticket !== undefined && this.reflector.get<boolean>(ACCEPTS_TICKET, ctx.getHandler())) {
      return true; // the controller redeems the ticket (and refuses the request without a user)
    }
    req.user = await this.authenticate(req.headers.authorization);
    const role = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (role === 'ADMIN' && req.user.role !== 'ADMIN') {
      throw new PermissionDeniedError();
    }
    return true;
  }

  /** Resolves a Bearer header to an active user, or throws the spec's 401. */
  async authenticate(header: string | undefined): Promise<User> {
    const parts = (header ?? '').split(' ').filter((p) => p !== '');
    if (!header || parts[0]?.toLowerCase() !== 'bearer') {
      throw new UnauthenticatedError('Authentication credentials were not provided.');
    }
    if (parts.length !== 2) {
      throw new UnauthenticatedError('Authorization header must contain two space-delimited values', { code: 'bad_authorization_header' });
    }
    const result = this.tokens.verify(parts[1], 'access');
    if (!result.ok) {
      throw new UnauthenticatedError('Given token not valid for any token type', {
        code: 'token_not_valid',
        messages: [{ token_class: 'AccessToken', token_type: 'access', message: result.problem }],
      });
    }
    const user = await this.users.findById(result.userId);
    if (!user) {
      throw new UnauthenticatedError('User not found', { code: 'user_not_found' });
    }
    if (!user.isActive) {
      throw new UnauthenticatedError('User is inactive', { code: 'user_inactive' });
    }
    return user;
  }
}
