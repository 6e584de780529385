import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiParam, ApiProperty, ApiQuery, ApiUnauthorizedResponse, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';

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

/** A paged list: `limit`/`offset`, extra integer filters, `X-Total-Count`. */
export function ApiList(type: Type, filters: { name: string; description: string; enum?: string[] }[] = []): MethodDecorator {
  return applyDecorators(
    ApiQuery({ name: 'limit', required: false, type: Number, description: 'default 100, 1…500 (larger values are clamped)' }),
    ApiQuery({ name: 'offset', required: false, type: Number, description: 'default 0' }),
    ...filters.map((f) =>
      f.enum ? ApiQuery({ name: f.name, required: false, enum: f.enum, description: f.description }) : ApiQuery({ name: f.name, required: false, type: Number, description: f.description }),
    ),
    ApiOkResponse({
      schema: { type: 'array', items: { $ref: getSchemaPath(type) } },
      headers: { 'X-Total-Count': { description: 'matches before paging', schema: { type: 'integer' } } },
    }),
    ApiExtraModels(type),
    ApiBadRequestResponse({ schema: VALIDATION_SCHEMA, description: 'bad paging or filter value' }),
  );
}

/** A request body documented by `type`, with DRF-style 400s. */
export function ApiInput(type: Type, description?: string): MethodDecorator {
  return applyDecorators(ApiBody({ type, description }), ApiBadRequestResponse({ schema: VALIDATION_SCHEMA, description: 'invalid body' }));
}
