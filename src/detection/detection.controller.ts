import { Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ParsesOwnBody } from '../common/body-parsing';
import { Public } from '../common/decorators';
import { AppConfig } from '../config/config';
import { DetectionResponse, DetectionService } from './detection.service';
import { MULTIPART_OVERHEAD_BYTES, readUpload } from './multipart-upload';
import { UploadBudget } from './upload-budget';

@Controller('sensor')
export class DetectionController {
  constructor(
    private readonly detection: DetectionService,
    private readonly config: AppConfig,
    private readonly budget: UploadBudget,
  ) {}

  /** Public to the JWT guard: the per-camera device key is this route's authentication (spec §5, C6). */
  @Public()
  @ParsesOwnBody()
  @Post('detect')
  @HttpCode(200)
  async detect(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('x-device-key') deviceKey: string | undefined,
  ): Promise<DetectionResponse> {
    const device = await this.detection.authenticate(deviceKey); // step 1, body still unread
    const maxFile = this.config.sensor.maxUploadBytes;
    // the image stays in memory until the answer is sent: hold its bytes against the process budget till then
    const lease = this.budget.lease();
    res.on('close', () => lease.release());
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared <= maxFile + MULTIPART_OVERHEAD_BYTES) {
      lease.add(Math.min(declared, maxFile)); // reserved before a byte is read: 503 at once when it does not fit
    }
    const upload = await readUpload(req, maxFile, lease); // step 2 while streaming
    return this.detection.detect(device, upload);
  }
}
