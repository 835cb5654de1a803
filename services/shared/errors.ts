/**
 * The base of the system's errors (after kafkajs's KafkaJSError): `expected` says the error is
 * about the input or the set-up (a clear message, no stack trace for the user), `retriable` that
 * the same call may succeed later (an outage); `code` is for programs (DLQ reasons, counts).
 */
export class HarvesterError<Code extends string = string> extends Error {
  readonly expected: boolean;
  readonly retriable: boolean;
  constructor(
    readonly code: Code,
    message: string,
    options: { expected?: boolean; retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.expected = options.expected ?? true;
    this.retriable = options.retriable ?? false;
  }
}

/**
 * About the input or the set-up, and its class (or this one) says which: the CLI prints its
 * message as one line, no stack trace; not retriable.
 */
export class ExpectedError extends HarvesterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(new.target.name, message, { cause: options.cause });
  }
}

/** A failure whose stack trace is kept for the reader (a bug, a broken peer or event): not expected. */
export class FailureError extends HarvesterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(new.target.name, message, { expected: false, cause: options.cause });
  }
}
