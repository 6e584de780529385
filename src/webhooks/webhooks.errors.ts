import { ConflictError, DomainError } from '../common/errors';

export class WebhookNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'No Webhook matches the given query.');
  }
}

export class DeliveryNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'No Delivery matches the given query.');
  }
}

/** A manual retry of a delivery that is not failed or exhausted (pending or succeeded). */
export class DeliveryNotRetryableError extends ConflictError {
  constructor(status: string) {
    super(`Only a failed or exhausted delivery can be retried; this one is ${status}.`);
  }
}

/** A test or retry on a disabled endpoint: it would be refused without trying. */
export class WebhookInactiveError extends ConflictError {
  constructor() {
    super('Webhook is not active; set is_active to true first.');
  }
}
