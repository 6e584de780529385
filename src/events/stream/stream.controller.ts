import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AcceptsStreamTicket } from '../../auth/jwt-auth.guard';
import { ApiAuth } from '../../common/api-docs';
import { CurrentUser } from '../../common/decorators';
import { UnauthenticatedError } from '../../common/errors';
import type { User } from '../../users/user.entity';
import { parseStreamQuery, STREAM_TYPES, ticketOf } from './dto/stream-query';
import { StreamHub } from './stream-hub';
import { StreamTicketsService } from './stream-tickets.service';

class StreamTicketDto {
  @ApiProperty({ description: 'single use; pass it as ?ticket= to GET /events/stream' }) ticket!: string;
  @ApiProperty({ example: 60, description: 'seconds until the ticket expires' }) expires_in!: number;
}

const STREAM_DESCRIPTION = [
  'Server-sent events (ALERTING.md §4). Each event: `id: <event id>`, `event: <type>`, `data: <envelope as on GET /events/>`.',
  'A `: keep-alive` comment every SSE_KEEPALIVE_INTERVAL (15 s). `Last-Event-ID` (or `?after=`) replays the missed events from the log,',
  'then continues live, without gap or duplicate; without either, only events after the newest one at connect time.',
  'After SSE_MAX_DURATION (55 min), and when the instance shuts down, the stream ends with `retry: 1000`: reconnect and resume.',
  'Transient `zone.occupancy` events (no id, not replayable) only with `?types=zone.occupancy`.',
].join(' ');

@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class StreamController {
  constructor(
    private readonly hub: StreamHub,
    private readonly tickets: StreamTicketsService,
  ) {}

  @Post('stream-ticket')
  @HttpCode(200)
  @ApiOperation({ summary: 'A single-use ticket for GET /events/stream?ticket= (browsers\' EventSource cannot send headers); expires after 60 s' })
  @ApiOkResponse({ type: StreamTicketDto })
  @ApiAuth(false)
  async ticket(@CurrentUser() user: User): Promise<StreamTicketDto> {
    const { ticket, expiresIn } = await this.tickets.issue(user.id);
    return { ticket, expires_in: expiresIn };
  }

  @Get('stream')
  @AcceptsStreamTicket()
  @ApiOperation({ summary: 'Live event stream (text/event-stream)', description: STREAM_DESCRIPTION })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'ticket', required: false, type: String, description: 'instead of the Authorization header: a ticket from POST /events/stream-ticket/ (single use)' })
  @ApiQuery({ name: 'types', required: false, type: String, description: `comma-separated: ${STREAM_TYPES.join(', ')}` })
  @ApiQuery({ name: 'org_id', required: false, type: Number, description: 'events of this organization' })
  @ApiQuery({ name: 'after', required: false, type: Number, description: 'replay the events after this id first (Last-Event-ID wins)' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'the last id received: the missed events are replayed first' })
  @ApiOkResponse({
    description: 'an endless text/event-stream: `id: 4711\\nevent: alert.opened\\ndata: {"id":4711,"type":"alert.opened",…}\\n\\n`, `: keep-alive` comments, and `retry: 1000` at the end',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({ description: 'bad types, org_id, after or Last-Event-ID' })
  @ApiAuth(false)
  async stream(@Req() req: Request & { user?: User }, @Res() res: Response, @Query() query: Record<string, unknown>): Promise<void> {
    if (!req.user) {
      // the guard let a `?ticket=` without Authorization header through: redeem it here
      const ticket = ticketOf(query);
      if (ticket === undefined) {
        throw new UnauthenticatedError('Authentication credentials were not provided.');
      }
      req.user = await this.tickets.redeem(ticket);
    }
    const input = parseStreamQuery(query, req.headers['last-event-id']);
    if (req.method === 'HEAD') {
      res.status(200).type('text/event-stream').end();
      return;
    }
    await this.hub.open(res, { types: input.types, orgId: input.orgId }, input.after);
  }
}
