import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import type { Page } from '../common/validation';
import type { ListResult } from '../common/wire';
import { AppConfig } from '../config/config';
import { occupancyPercentage } from '../detection/rounding';
import { BUCKET_SECONDS, type HistoryQuery } from './dto/history-query';
import type { BoardStatus, OccupancyHistoryDto, OccupancyPointDto, ZoneOccupancyDto } from './dto/occupancy.dto';
import { OccupancyRepository, type BoardRow, type BucketRow } from './occupancy.repository';

/** `occupancyPercentage`, or null for a capacity that cannot divide (never recorded by detection, which needs capacity > 0). */
export function percentageOf(people: number, capacity: number): string | null {
  return capacity > 0 ? occupancyPercentage(people, capacity) : null;
}

/**
 * `sum / samples` rounded to 2 decimals, ties away from zero, computed exactly on the integers
 * (no float drift between raw and roll-up answers of the same readings).
 */
export function averagePeople(sum: number, samples: number): number {
  const sign = sum < 0 ? -1 : 1;
  const abs = Math.abs(sum) * 100;
  return (sign * Math.floor((2 * abs + samples) / (2 * samples))) / 100;
}

/** The live board and history of ALERTING.md §6. */
@Injectable()
export class OccupancyService {
  constructor(
    private readonly repo: OccupancyRepository,
    private readonly config: AppConfig,
  ) {}

  async board(page: Page, filter: { orgId?: number }, now = new Date()): Promise<ListResult<ZoneOccupancyDto>> {
    const { items, total } = await this.repo.board(page, filter);
    return { items: items.map((r) => this.present(r, now)), total };
  }

  async history(zoneId: number, q: HistoryQuery): Promise<OccupancyHistoryDto> {
    const capacity = await this.repo.zoneCapacity(zoneId);
    if (capacity === null) {
      throw new NotFoundError('Zone');
    }
    const seconds = BUCKET_SECONDS[q.bucket];
    let rows: BucketRow[];
    if (seconds >= 3600) {
      // whole roll-up hours: from the bucket that holds `from`, to the hour that holds `to`
      const size = seconds * 1000;
      const first = new Date(Math.floor(q.from.getTime() / size) * size);
      rows = await this.repo.rollupBuckets(zoneId, first, q.to, seconds);
    } else {
      rows = await this.repo.rawBuckets(zoneId, q.from, q.to, seconds);
    }
    return { zone_id: zoneId, capacity, bucket: q.bucket, points: rows.map(presentPoint) };
  }

  /** Keys in the order of ALERTING.md §6. */
  private present(r: BoardRow, now: Date): ZoneOccupancyDto {
    const x = r.reading;
    const stale = x !== null && now.getTime() - x.measuredAt.getTime() > this.config.occupancy.staleAfterMs;
    return {
      zone_id: r.zoneId,
      zone: r.zone,
      organization_id: r.organizationId,
      capacity: x ? x.capacity : r.zoneCapacity,
      people: x ? x.people : null,
      occupancy_percentage: x ? percentageOf(x.people, x.capacity) : null,
      status: x === null ? 'NO_DATA' : stale ? 'STALE' : (x.status as BoardStatus),
      measured_at: x ? x.measuredAt.toISOString() : null,
      camera_id: x ? x.cameraId : null,
      open_alert_id: r.openAlertId,
    };
  }
}

function presentPoint(b: BucketRow): OccupancyPointDto {
  return {
    start: b.start.toISOString(),
    samples: b.samples,
    avg_people: averagePeople(b.peopleSum, b.samples),
    max_people: b.maxPeople,
    min_people: b.minPeople,
  };
}
