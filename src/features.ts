import type { Type } from '@nestjs/common';

/**
 * Feature modules mounted by AppModule. Each feature adds its module here (one line) so
 * the composition root does not need to change as features land.
 */
export const FEATURE_MODULES: Type[] = [];
