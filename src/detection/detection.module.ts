import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { CarbonModule } from '../carbon/carbon.module';
import { CrowdPredictionModule } from '../integrations/crowd-prediction/crowd-prediction.module';
import { GeminiModule } from '../integrations/gemini/gemini.module';
import { LivenessModule } from '../liveness/liveness.module';
import { SitesModule } from '../sites/sites.module';
import { DetectionController } from './detection.controller';
import { DetectionService } from './detection.service';
import { ZoneThrottle } from './throttle/zone-throttle.service';
import { UploadBudget } from './upload-budget';

/** POST /sensor/detect/. The SENSOR_AUTH=off warning is logged once by main.ts. */
@Module({
  imports: [CrowdPredictionModule, GeminiModule, AlertsModule, CarbonModule, SitesModule, LivenessModule],
  controllers: [DetectionController],
  providers: [DetectionService, ZoneThrottle, UploadBudget],
})
export class DetectionModule {}
