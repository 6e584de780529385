import { Body, Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, Public } from '../common/decorators';
import type { User } from '../users/user.entity';
import { LoginResult, presentLogin, presentRegistration, presentTokenPair, RegistrationResult } from './auth.presenter';
import { AuthService } from './auth.service';
import { parseLoginInput, parseRefreshInput, parseRegisterInput } from './dto/auth.input';
import { JwtAuthGuard } from './jwt-auth.guard';
import { RefreshTokens, TokenPair } from './refresh-tokens.service';
import { RegistrationService } from './registration.service';

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
    const input = await parseRegisterInput(body, (email) => this.registration.isEmailTaken(email));
    return presentRegistration(await this.registration.register(input, caller));
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
  async login(@Body() body: unknown, @Req() req: Request): Promise<LoginResult> {
    // validated before the limiter reserves an attempt: a malformed body costs no attempt
    const input = parseLoginInput(body);
    return presentLogin(await this.auth.login(input, req.ip ?? req.socket.remoteAddress ?? 'unknown'));
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiBody({ schema: REFRESH_BODY })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { access: str, refresh: str } } })
  async refresh(@Body() body: unknown): Promise<TokenPair> {
    const { refresh } = parseRefreshInput(body);
    return presentTokenPair(await this.refreshTokens.rotate(refresh));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiBody({ schema: REFRESH_BODY })
  @ApiResponse({ status: 204 })
  async logout(@Body() body: unknown, @CurrentUser() user: User): Promise<void> {
    const { refresh } = parseRefreshInput(body);
    await this.refreshTokens.revoke(refresh, user.id);
  }
}
