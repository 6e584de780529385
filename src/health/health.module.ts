import { Module } from '@nestjs/common';
import { DbHealthRepository } from '../database/db-health.repository';
import { CrowdPredictionModule } from '../integrations/crowd-prediction/crowd-prediction.module';
import { GeminiModule } from '../integrations/gemini/gemini.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [CrowdPredictionModule, GeminiModule],
  controllers: [HealthController],
  providers: [DbHealthRepository, HealthService],
})
export class HealthModule {}
