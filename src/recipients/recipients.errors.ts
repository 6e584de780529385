import { DomainError } from '../common/errors';

/** 404 `{"detail":"No AlertRecipient matches the given query."}` */
export class RecipientNotFoundError extends DomainError {
  constructor() {
    super('not_found', 'No AlertRecipient matches the given query.');
  }
}
