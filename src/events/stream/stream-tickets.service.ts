import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { UnauthenticatedError } from '../../common/errors';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import type { User } from '../../users/user.entity';
import { UsersRepository } from '../../users/users.repository';
import { StreamTicketsRepository } from './stream-tickets.repository';

const PURGE_BATCH = 100;

function hashOf(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('hex');
}

/** Single-use tickets that let a browser's EventSource open the stream (ALERTING.md §4). */
@Injectable()
export class StreamTicketsService {
  private readonly log: AppLogger;

  constructor(
    private readonly tickets: StreamTicketsRepository,
    private readonly users: UsersRepository,
    private readonly config: AppConfig,
    @Inject(LOGGER) logger: AppLogger,
  ) {
    this.log = logger.child({ context: 'StreamTickets' });
  }

  /** A random ticket for `userId`; only its sha256 is stored. Expired tickets are purged on the way. */
  async issue(userId: number): Promise<{ ticket: string; expiresIn: number }> {
    const ticket = randomBytes(32).toString('base64url');
    const ttl = this.config.stream.ticketTtlSec;
    await this.tickets.insert(hashOf(ticket), userId, ttl);
    this.tickets.purgeExpired(PURGE_BATCH).catch((err: unknown) => this.log.warn({ err }, 'purging expired stream tickets failed'));
    return { ticket, expiresIn: ttl };
  }

  /** The active user the ticket was issued to; the ticket is spent. Unknown, used or expired → 401. */
  async redeem(ticket: string): Promise<User> {
    const userId = ticket.length > 0 && ticket.length <= 256 ? await this.tickets.redeem(hashOf(ticket)) : null;
    if (userId === null) {
      throw new UnauthenticatedError('Invalid or expired stream ticket.', { code: 'ticket_not_valid' });
    }
    const user = await this.users.findById(userId);
    if (!user) {
      throw new UnauthenticatedError('User not found', { code: 'user_not_found' });
    }
    if (!user.isActive) {
      throw new UnauthenticatedError('User is inactive', { code: 'user_inactive' });
    }
    return user;
  }
}
