import { Injectable } from '@nestjs/common';
import type { DeliveryChannel, DeliveryChannelName } from './delivery-channel';

/** The channels the outbox worker delivers through; each feature registers its own at init. */
@Injectable()
export class DeliveryChannels {
  private readonly channels = new Map<DeliveryChannelName, DeliveryChannel>();

  register(channel: DeliveryChannel): void {
    this.channels.set(channel.name, channel);
  }

  get(name: DeliveryChannelName): DeliveryChannel | undefined {
    return this.channels.get(name);
  }

  /** the longest attempt of any channel: the claim lease must outlast it */
  get longestAttemptMs(): number {
    return Math.max(1000, ...[...this.channels.values()].map((c) => c.attemptTimeoutMs));
  }
}
