import { Module } from '@nestjs/common';
import { CrowdPredictionModule } from '../integrations/crowd-prediction/crowd-prediction.module';
import { GeminiModule } from '../integrations/gemini/gemini.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [CrowdPredictionModule, GeminiModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
