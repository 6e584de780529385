import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RefreshTokens } from './refresh-tokens.service';
import { RegistrationService } from './registration.service';
import { TokenService } from './token.service';

@Module({
  imports: [JwtModule.register({}), UsersModule],
  controllers: [AuthController],
  providers: [TokenService, JwtAuthGuard, PasswordHasher, LoginThrottle, RefreshTokensRepository, RefreshTokens, AuthService, RegistrationService],
  exports: [TokenService, JwtAuthGuard, PasswordHasher],
})
export class AuthModule {}
