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
