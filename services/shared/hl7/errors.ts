import { FailureError } from '../errors.ts';
/** Where in the input a problem was found; every part is optional because callers know different parts. */
export interface Hl7Location {
  /** 0-based index of the message in the input it was split from. */
  messageIndex?: number;
  /** Offset of the message start in the input (bytes for a Buffer, characters for a string). */
  offset?: number;
  /** Segment name, e.g. "OBR". */
  segment?: string;
  /** 0-based position of the segment within the message. */
  segmentIndex?: number;
  /** Field, e.g. "OBR-7". */
  field?: string;
}

/**
 * A malformed or unsupported HL7 message. The message says what is wrong and where, so a feed
 * operator can find the message; it never contains field values that could identify a patient.
 */
export class Hl7ParseError extends FailureError {
  readonly problem: string;
  readonly location: Hl7Location;

  constructor(problem: string, location: Hl7Location = {}) {
    super(formatMessage(problem, location));
    this.problem = problem;
    this.location = location;
  }

  /** The same error with more location (e.g. the message index the splitter knows). */
  withLocation(more: Hl7Location): Hl7ParseError {
    return new Hl7ParseError(this.problem, { ...this.location, ...more });
  }
}

function formatMessage(problem: string, loc: Hl7Location): string {
  const where: string[] = [];
  if (loc.messageIndex !== undefined) where.push(`message ${loc.messageIndex + 1}`);
  if (loc.offset !== undefined) where.push(`offset ${loc.offset}`);
  if (loc.segment !== undefined) {
    where.push(
      loc.segmentIndex !== undefined
        ? `segment ${loc.segmentIndex + 1} (${loc.segment})`
        : `segment ${loc.segment}`,
    );
  } else if (loc.segmentIndex !== undefined) {
    where.push(`segment ${loc.segmentIndex + 1}`);
  }
  if (loc.field !== undefined) where.push(`field ${loc.field}`);
  return where.length > 0 ? `${where.join(', ')}: ${problem}` : problem;
}
