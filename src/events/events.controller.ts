import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiAuth } from '../common/api-docs';
import { SUBSCRIBABLE_EVENT_TYPES, type EventEnvelope } from './event-types';
import { parseEventListQuery } from './dto/event-query';
import { EventDto } from './dto/event.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiBearerAuth()
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ summary: 'The event log after an id, ascending (ALERTING.md §1); webhook.test events are not listed' })
  @ApiQuery({ name: 'after', required: false, type: Number, description: 'only events with a larger id (default 0)' })
  @ApiQuery({ name: 'types', required: false, type: String, description: `comma-separated: ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}` })
  @ApiQuery({ name: 'org_id', required: false, type: Number, description: 'events of this organization' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: 'default 100, at most 500' })
  @ApiOkResponse({ type: EventDto, isArray: true })
  @ApiBadRequestResponse({ description: 'bad query value' })
  @ApiAuth(false)
  list(@Query() query: Record<string, unknown>): Promise<EventEnvelope[]> {
    return this.events.list(parseEventListQuery(query));
  }
}
