/**
 * `online` on the camera wire format (ALERTING.md §6): seen within CAMERA_OFFLINE_AFTER; never
 * seen is offline. `is_active` plays no part. The complement of the sweep's due condition
 * (`last_seen_at <= now() - offline_after`, liveness.repository.ts), read on the app's clock.
 */
export function isOnline(lastSeenAt: Date | string | null, offlineAfterMs: number, now: number = Date.now()): boolean {
  return lastSeenAt !== null && now - new Date(lastSeenAt).getTime() < offlineAfterMs;
}
