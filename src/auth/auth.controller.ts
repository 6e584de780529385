import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, Public } from '../common/decorators';
import { validateBody } from '../common/validation';
import type { User } from '../users/user.entity';
import { AuthService, LoginResult } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { RefreshTokens, TokenPair } from './refresh-tokens.service';
import { RegistrationResult, RegistrationService } from './registration.service';

const REFRESH_SCHEMA = { refresh: { kind: 'string', max: 4096, required: true } } as const;

const str = { type: 'string' } as const;
const REFRESH_BODY = { type: 'object', required: ['refresh'], properties: { refresh: str } };

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly registration: RegistrationService,
    private readonly refreshTokens: RefreshTokens,
    private readonly guard: JwtAuthGuard,
  ) {}

  @Public()
  @Post('register')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiBody({
    schema: {
      type: 'object',
      required: ['email', 'password'],
      properties: {
        email: { type: 'string', format: 'email', maxLength: 254 },
        password: { type: 'string', minLength: 8, maxLength: 128 },
        first_name: { type: 'string', maxLength: 150 },
        last_name: { type: 'string', maxLength: 150 },
        role: { type: 'string', enum: ['ADMIN', 'USER'], default: 'USER' },
      },
    },
  })
  @ApiResponse({
    status: 201,
    schema: { type: 'object', properties: { message: str, user: { type: 'object', properties: { email: str, role: str } } } },
  })
  async register(@Body() body: unknown, @Headers('authorization') authorization: string | undefined): Promise<RegistrationResult> {
    // public, but a header that is present must be valid: it is how an ADMIN creates ADMINs
    const caller = authorization === undefined ? null : await this.guard.authenticate(authorization);
    return this.registration.register(body, caller);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object', required: ['email', 'password'], properties: { email: str, password: str } } })
  @ApiResponse({
    status: 200,
    schema: {
      type: 'object',
      properties: { refresh: str, access: str, user_id: { type: 'integer' }, email: str, role: str, name: str },
    },
  })
  login(@Body() body: unknown, @Req() req: Request): Promise<LoginResult> {
    return this.auth.login(body, req.ip ?? req.socket.remoteAddress ?? 'unknown');
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiBody({ schema: REFRESH_BODY })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { access: str, refresh: str } } })
  refresh(@Body() body: unknown): Promise<TokenPair> {
    const input = validateBody(body, REFRESH_SCHEMA, { partial: false });
    return this.refreshTokens.rotate(String(input.refresh));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiBody({ schema: REFRESH_BODY })
  @ApiResponse({ status: 204 })
  async logout(@Body() body: unknown, @CurrentUser() user: User): Promise<void> {
    const input = validateBody(body, REFRESH_SCHEMA, { partial: false });
    await this.refreshTokens.revoke(String(input.refresh), user.id);
  }
}
