import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiHeader, ApiResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiParam, ApiProperty, ApiQuery, ApiUnauthorizedResponse, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';

// OpenAPI decorators shared by the operator-API controllers (documentation only).

export class ErrorDetailDto {
  @ApiProperty({ example: 'No Zone matches the given query.' }) detail!: string;
}

const VALIDATION_SCHEMA = {
  type: 'object',
  description: 'Django REST framework style: every failing field with its messages',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  example: { name: ['This field is required.'] },
};

/** Bearer auth, 401, and 403 when `admin`. */
export function ApiAuth(admin: boolean): MethodDecorator & ClassDecorator {
  const decorators = [ApiUnauthorizedResponse({ type: ErrorDetailDto, description: 'missing or invalid access token' })];
  if (admin) {
    decorators.push(ApiForbiddenResponse({ type: ErrorDetailDto, description: 'role ADMIN required' }));
  }
  return applyDecorators(ApiExtraModels(ErrorDetailDto), ...decorators);
}

/** `{id}` path parameter with its 400 and 404 answers. */
export function ApiIdRoute(model: string): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'id', type: Number, description: `${model} id` }),
    ApiNotFoundResponse({ type: ErrorDetailDto, description: `{"detail":"No ${model} matches the given query."}` }),
    ApiBadRequestResponse({ schema: VALIDATION_SCHEMA, description: 'bad id or invalid body' }),
  );
}

const ETAG_HEADER = { description: 'weak validator of this answer (same query, same data: same tag)', schema: { type: 'string', example: 'W/"q1Vn0JxZ…"' } };

/** A conditional list: `If-None-Match` and its 304 (issue 16, src/common/conditional-get.ts). */
function conditionalListDocs(): MethodDecorator[] {
  return [
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'ETag(s) of an earlier answer (a list, or *); 304 when the answer would be the same. A bad query is still a 400.',
    }),
    ApiResponse({
      status: 304,
      description: 'Not Modified: the answer is the one tagged by If-None-Match; no body, no X-Total-Count',
      headers: { ETag: ETAG_HEADER, 'Cache-Control': { description: 'private, no-cache', schema: { type: 'string' } } },
    }),
  ];
}

/**
 * A paged list: `limit`/`offset`, extra integer filters, `X-Total-Count`; with `conditional`,
 * also ETag, Cache-Control, If-None-Match and the 304.
 */
export function ApiList(type: Type, filters: { name: string; description: string; enum?: string[] }[] = [], opts: { conditional?: boolean } = {}): MethodDecorator {
  const conditionalHeaders: Record<string, typeof ETAG_HEADER> = opts.conditional ? { ETag: ETAG_HEADER, 'Cache-Control': { description: 'private, no-cache', schema: { type: 'string', example: 'private, no-cache' } } } : {};
  return applyDecorators(
    ...(opts.conditional ? conditionalListDocs() : []),
    ApiQuery({ name: 'limit', required: false, type: Number, description: 'default 100, 1…500 (larger values are clamped)' }),
    ApiQuery({ name: 'offset', required: false, type: Number, description: 'default 0' }),
    ...filters.map((f) =>
      f.enum ? ApiQuery({ name: f.name, required: false, enum: f.enum, description: f.description }) : ApiQuery({ name: f.name, required: false, type: Number, description: f.description }),
    ),
    ApiOkResponse({
      schema: { type: 'array', items: { $ref: getSchemaPath(type) } },
      headers: { 'X-Total-Count': { description: 'matches before paging', schema: { type: 'integer' } }, ...conditionalHeaders },
    }),
    ApiExtraModels(type),
    ApiBadRequestResponse({ schema: VALIDATION_SCHEMA, description: 'bad paging or filter value' }),
  );
}

/** A request body documented by `type`, with DRF-style 400s. */
export function ApiInput(type: Type, description?: string): MethodDecorator {
  return applyDecorators(ApiBody({ type, description }), ApiBadRequestResponse({ schema: VALIDATION_SCHEMA, description: 'invalid body' }));
}
