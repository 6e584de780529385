import { Module } from '@nestjs/common';
import { AlertClaimService } from './alert-claim.service';

@Module({
  providers: [AlertClaimService],
  exports: [AlertClaimService],
})
export class AlertsModule {}
