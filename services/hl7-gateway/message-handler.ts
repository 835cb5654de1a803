import type { OutgoingMessage } from '../shared/kafka/producer.ts';
import type { Logger } from '../shared/observability/logger.ts';
import { withTimeout } from '../shared/runtime/with-timeout.ts';
import { buildAck, buildBatchAck, HL7_ERRORS, UNKNOWN_HEADER, type AckedHeader } from './ack.ts';
import { checkMessage, splitPayload, type IntakeDecision, type IntakeRules } from './intake.ts';
import type { Hl7GatewayMetrics } from './metrics.ts';
import { FailureError } from '../shared/errors.ts';

/** What the listener sends back for one MLLP payload: an ACK, or nothing (and it closes the connection). */
export type HandlerResponse = { ack: string } | { ack: null; why: string };

/** Publishes messages and resolves once Kafka acknowledged every one of them. */
export interface RawPublisher {
  /** `signal` aborts when the gateway gives up waiting: messages not yet sent may then be withdrawn. */
  publish(messages: OutgoingMessage[], signal?: AbortSignal): Promise<void>;
}

export class PublishTimeoutError extends FailureError {}

/**
 * The gateway's rule for each MLLP payload: refuse what cannot be accepted (AR with an ERR, nothing
 * published), publish the rest and answer AA only after Kafka acknowledged the write; when Kafka
 * does not acknowledge in time, answer nothing, so the sender sends it again. A batch is
 * acknowledged message by message in a batch of ACKs, after all its accepted messages are written.
 */
export class MessageHandler {
  private ackCounter = 0;

  constructor(
    private readonly rules: IntakeRules,
    private readonly publisher: RawPublisher,
    private readonly publishTimeoutMs: number,
    private readonly metrics: Hl7GatewayMetrics,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** An ACK for a frame the framer could not deliver (over the limit, or bytes outside MLLP frames). */
  refuseFrame(kind: 'oversize' | 'outside-frame', head: Buffer, size: number): string {
    const decision = checkMessage(head, this.rules);
    const header: AckedHeader =
      decision.accept || decision.reason !== 'not-hl7' ? decision.header : UNKNOWN_HEADER;
    const reason = kind === 'oversize' ? 'too-large' : 'not-mllp';
    const detail =
      kind === 'oversize'
        ? `message of ${size} bytes is over the gateway's limit of ${this.rules.maxMessageBytes} bytes`
        : `${size} bytes outside an MLLP frame (expected <VT> message <FS><CR>)`;
    this.count({
      accept: false,
      header,
      code: 'AR',
      reason,
      error: { condition: HL7_ERRORS.applicationError, detail },
    });
    return buildAck(header, 'AR', this.nextAckId(), this.now(), {
      condition: HL7_ERRORS.applicationError,
      detail,
    });
  }

  async handle(payload: Buffer): Promise<HandlerResponse> {
    const started = process.hrtime.bigint();
    const split = splitPayload(payload);
    const raws = split.kind === 'message' ? [split.bytes] : split.messages;
    const decisions = raws.map((raw) => checkMessage(raw, this.rules));
    const accepted = decisions.flatMap((d, i) => (d.accept ? [{ key: d.key, value: raws[i]! }] : []));
    if (accepted.length > 0) {
      try {
        await withTimeout(
          (signal) => this.publisher.publish(accepted, signal),
          this.publishTimeoutMs,
          () => new PublishTimeoutError(`Kafka did not acknowledge within ${this.publishTimeoutMs} ms`),
        );
      } catch (err) {
        this.metrics.publishFailures.inc();
        this.metrics.messages.inc({ outcome: 'unacknowledged', reason: 'kafka' }, accepted.length);
        this.logger.warn(
          { err: (err as Error).message, messages: accepted.length },
          'Kafka did not acknowledge: no ACK sent, the sender will retry',
        );
        return { ack: null, why: (err as Error).message };
      }
      this.metrics.bytes.inc(accepted.reduce((n, m) => n + m.value.length, 0));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const acks = decisions.map((d) => {
      this.count(d);
      if (d.accept) this.metrics.ackSeconds.observe(seconds);
      return d.accept
        ? buildAck(d.header, 'AA', this.nextAckId(), this.now())
        : buildAck(d.header, d.code, this.nextAckId(), this.now(), d.error);
    });
    if (split.kind === 'message') return { ack: acks[0]! };
    if (acks.length === 0) {
      const detail = 'the batch holds no message (no MSH segment)';
      this.metrics.messages.inc({ outcome: 'refused', reason: 'malformed-batch' });
      return {
        ack: buildAck(split.header, 'AR', this.nextAckId(), this.now(), {
          condition: HL7_ERRORS.segmentSequence,
          detail,
        }),
      };
    }
    return { ack: buildBatchAck(split.header, acks, this.nextAckId(), this.now()) };
  }

  private count(d: IntakeDecision): void {
    if (d.accept) this.metrics.messages.inc({ outcome: 'accepted', reason: '' });
    else {
      this.metrics.messages.inc({ outcome: 'refused', reason: d.reason });
      // control id and reason only: the message itself may hold patient data
      this.logger.info(
        { reason: d.reason, code: d.code, messageControlId: d.header.messageControlId || undefined },
        'message refused',
      );
    }
  }

  private nextAckId(): string {
    this.ackCounter = (this.ackCounter + 1) % 1_000_000;
    return `FH${Date.now().toString(36).toUpperCase()}${this.ackCounter.toString().padStart(6, '0')}`;
  }
}
