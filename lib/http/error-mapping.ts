import { InvalidCursor, isTransient } from "../db/errors.ts";
import {
  BadRequestError,
  ConflictError,
  HttpError,
  NotFoundError,
  PreconditionFailedError,
  ServiceUnavailableError,
} from "../errors.ts";
import { metric } from "../metrics.ts";
import { Refused } from "../refusals.ts";
import { RetriesExhausted } from "../retry.ts";

/** What a refusal from the db layer means to a caller, when the route did not say otherwise. */
function refusalError(error: Refused): HttpError {
  switch (error.reason) {
    case "deleting":
      return new ConflictError(
        "This account is being deleted; send the DELETE again to finish it",
        "account_being_deleted",
      );
    case "precondition":
      return new PreconditionFailedError();
    case "not_found":
      return new NotFoundError(error.detail ?? "The user does not exist", "inexistent_user");
    case "quota":
      return new ConflictError(
        error.detail ?? "Quota reached: delete some items before adding more",
        "quota_exceeded",
      );
    default:
      return new ConflictError("The request conflicts with the stored data; retry", "conflict");
  }
}

/** Every error becomes an HttpError; anything unexpected is a 500 that reveals nothing. */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof Refused) return refusalError(error);
  if (error instanceof InvalidCursor) return new BadRequestError(error.message, "invalid_cursor");
  if (error instanceof RetriesExhausted) {
    return new ConflictError(
      "The data is being changed by many requests at once; retry",
      "write_conflict",
      1,
    );
  }
  if (isTransient(error)) {
    metric("Unavailable", 1, "dynamodb");
    return new ServiceUnavailableError(1);
  }
  return undefined;
}
