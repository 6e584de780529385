import { Body, Controller, Get, Patch, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../common/decorators';
import { parseUpdateProfileInput } from './dto/profile.input';
import type { User } from './user.entity';
import { presentUser, UserView } from './users.presenter';
import { UsersService } from './users.service';

const USER_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    email: { type: 'string' },
    first_name: { type: 'string' },
    last_name: { type: 'string' },
    role: { type: 'string', enum: ['ADMIN', 'USER'] },
    eco_points: { type: 'integer' },
    full_name: { type: 'string' },
  },
};
const PROFILE_BODY = {
  type: 'object',
  properties: { first_name: { type: 'string', maxLength: 150 }, last_name: { type: 'string', maxLength: 150 } },
};

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ schema: USER_SCHEMA })
  me(@CurrentUser() user: User): UserView {
    return presentUser(user);
  }

  @Put()
  @ApiBody({ schema: PROFILE_BODY })
  @ApiOkResponse({ schema: USER_SCHEMA })
  async put(@CurrentUser() user: User, @Body() body: unknown): Promise<UserView> {
    return presentUser(await this.users.updateProfile(user, parseUpdateProfileInput(body)));
  }

  @Patch()
  @ApiBody({ schema: PROFILE_BODY })
  @ApiOkResponse({ schema: USER_SCHEMA })
  async patch(@CurrentUser() user: User, @Body() body: unknown): Promise<UserView> {
    return presentUser(await this.users.updateProfile(user, parseUpdateProfileInput(body)));
  }
}
