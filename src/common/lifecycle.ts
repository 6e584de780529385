import { Injectable } from '@nestjs/common';

/** Process-wide flags the health endpoints read; set by the shutdown sequence (main.ts). */
@Injectable()
export class Lifecycle {
  shuttingDown = false;
  private readonly hooks = new Set<() => void>();

  /**
   * `hook` runs once when shutdown begins, before the drain: long-lived responses (the event
   * stream) end themselves instead of holding the drain to its deadline. Returns an unsubscribe.
   */
  onShutdown(hook: () => void): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Readiness off, then the hooks (each one's failure is its own). */
  beginShutdown(): void {
    this.shuttingDown = true;
    for (const hook of [...this.hooks]) {
      try {
        hook();
      } catch {
        // a hook that throws must not stop the shutdown sequence
      }
    }
  }
}
