import { Module } from '@nestjs/common';
import { CrowdPredictionModule } from '../integrations/crowd-prediction/crowd-prediction.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [CrowdPredictionModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
