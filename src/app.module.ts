import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AlertsModule } from './alerts/alerts.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { BodyParsingInterceptor } from './common/body-parsing';
import { GlobalExceptionFilter } from './common/http-exception.filter';
import { Lifecycle } from './common/lifecycle';
import { LOGGER, type AppLogger } from './common/logger';
import { RouteTable } from './common/route-table';
import { AppConfig } from './config/config';
import { DatabaseModule } from './database/database.module';
import { DeliveryModule } from './delivery/delivery.module';
import { EventsModule } from './events/events.module';
import { StreamModule } from './events/stream/stream.module';
import { DetectionModule } from './detection/detection.module';
import { HealthModule } from './health/health.module';
import { RedisModule } from './integrations/redis/redis.module';
import { LivenessModule } from './liveness/liveness.module';
import { OccupancyModule } from './occupancy/occupancy.module';
import { NotificationsModule } from './notifications/notifications.module';
import { RecipientsModule } from './recipients/recipients.module';
import { ObservabilityModule } from './observability/observability.module';
import { SitesModule } from './sites/sites.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Configuration, logger and other process-wide singletons, visible to every module. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, logger: AppLogger): DynamicModule {
    return {
      module: CoreModule,
      providers: [{ provide: AppConfig, useValue: config }, { provide: LOGGER, useValue: logger }, RouteTable, Lifecycle],
      exports: [AppConfig, LOGGER, RouteTable, Lifecycle],
    };
  }
}

/** Composition root: features plus the global guard, body parsing and exception filter. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: AppLogger, extraModules: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      // the one module list: infrastructure, then features (a new feature adds its module here)
      imports: [
        CoreModule.forRoot(config, logger),
        DatabaseModule,
        DeliveryModule,
        RedisModule,
        ObservabilityModule,
        AuthModule,
        HealthModule,
        DetectionModule,
        SitesModule,
        AlertsModule,
        NotificationsModule,
        EventsModule,
        StreamModule,
        WebhooksModule,
        RecipientsModule,
        OccupancyModule,
        LivenessModule,
        ...extraModules,
      ],
      providers: [
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        // after the guard: bodies are parsed only for authorized requests to routes that exist
        { provide: APP_INTERCEPTOR, useClass: BodyParsingInterceptor },
      ],
    };
  }
}
