import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { HarvesterError } from '../errors.ts';

type UnusableEventReason = 'not-avro' | 'unknown-schema' | 'undecodable' | 'invalid-event';

/** Why an input record cannot be used: it goes to `<topic>.dlq` with this reason. */
export class UnusableEventError extends HarvesterError<UnusableEventReason> {
  constructor(
    readonly reason: UnusableEventReason,
    message: string,
  ) {
    super(reason, message, { expected: false });
  }
}

/**
 * Decodes a Confluent-framed Avro record. Bad bytes (no magic byte, a schema id the registry does
 * not know, a body that does not parse) throw UnusableEventError; the registry being unreachable
 * throws anything else, so the caller retries instead of dead-lettering good input.
 */
export async function decodeEvent(registry: SchemaRegistry, value: Buffer | null): Promise<unknown> {
  if (!value || value.length < 6 || value[0] !== 0) {
    throw new UnusableEventError(
      'not-avro',
      'not in the Confluent Avro wire format (magic byte 0, schema id)',
    );
  }
  const id = value.readInt32BE(1);
  try {
    await registry.getSchema(id);
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404 || /not found/i.test((err as Error).message ?? '')) {
      throw new UnusableEventError('unknown-schema', `schema id ${id} is not in the registry`);
    }
    throw err;
  }
  try {
    return await registry.decode(value);
  } catch (err) {
    throw new UnusableEventError(
      'undecodable',
      `Avro body does not decode: ${(err as Error).message}`.slice(0, 300),
    );
  }
}

export interface DecodeWaitOptions {
  /** Stop waiting (the service is stopping): the registry's error is thrown. */
  signal: AbortSignal;
  /** Called while waiting, so the consumer group does not drop a member blocked on the registry. */
  heartbeat?: () => Promise<void>;
  onRetry?: (err: Error, delayMs: number) => void;
  /** Back-off bounds (ms). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * decodeEvent for a record that must not be skipped because the registry is down: bad bytes still
 * return null at once (the caller skips or dead-letters them), but an unreachable registry is
 * waited out with back-off, so a registry outage delays a record instead of dropping it.
 */
export async function decodeEventWaiting(
  registry: SchemaRegistry,
  value: Buffer | null,
  o: DecodeWaitOptions,
): Promise<{ event: unknown } | { unusable: UnusableEventError }> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = o.initialDelayMs ?? 1000;
  for (;;) {
    try {
      return { event: await decodeEvent(registry, value) };
    } catch (err) {
      if (err instanceof UnusableEventError) return { unusable: err };
      if (o.signal.aborted) throw err;
      o.onRetry?.(err as Error, delay);
      await sleep(delay);
      await o.heartbeat?.().catch(() => {});
      delay = Math.min(o.maxDelayMs ?? 30_000, delay * 2);
    }
  }
}
