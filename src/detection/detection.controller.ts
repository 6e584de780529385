import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Public } from '../common/decorators';
import { AppConfig } from '../config/config';
import { DetectionResponse, DetectionService } from './detection.service';
import { readUpload } from './multipart-upload';

@Controller('sensor')
export class DetectionController {
  constructor(
    private readonly detection: DetectionService,
    private readonly config: AppConfig,
  ) {}

  /** Public to the JWT guard: the per-camera device key is this route's authentication (spec §5, C6). */
  @Public()
  @Post('detect')
  @HttpCode(200)
  async detect(@Req() req: Request, @Headers('x-device-key') deviceKey: string | undefined): Promise<DetectionResponse> {
    const device = await this.detection.authenticate(deviceKey); // step 1, body still unread
    const upload = await readUpload(req, this.config.sensor.maxUploadBytes); // step 2 while streaming
    return this.detection.detect(device, upload);
  }
}
