import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * OpenAPI document at /openapi.json and Swagger UI at /docs, both public (they describe the
 * API, not its data). Must run before app.init(): routes added later sit behind Nest's 404 handler.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('EcoFlow API')
    .setDescription(
      'Crowd monitoring: organizations, zones, cameras, alerts, notifications, detections and carbon stats. ' +
        'Every route except the public ones needs `Authorization: Bearer <access token>` from POST /auth/login/; writes need role ADMIN.',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'EcoFlow API',
  });
}
