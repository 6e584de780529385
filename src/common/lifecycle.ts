import { Injectable } from '@nestjs/common';

/** Process-wide flags the health endpoints read; set by the shutdown sequence (main.ts). */
@Injectable()
export class Lifecycle {
  shuttingDown = false;
}
