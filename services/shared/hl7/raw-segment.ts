import type { Hl7Delimiters } from './escapes.ts';

/**
 * Field access on one segment's raw text with the message's own delimiters. node-hl7-client
 * parses the message and yields its segments; reading fields through its get() costs about
 * 25 µs each (measured), which would cap extraction near 2,000 messages/s, so fields are cut here.
 * Values are raw (escapes not decoded): callers decode the ones that are text.
 */
export class RawSegment {
  readonly name: string;
  private readonly fields: string[];
  /** MSH-1 is the field separator itself, so MSH field n sits one position earlier. */
  private readonly shift: number;

  constructor(
    raw: string,
    private readonly d: Hl7Delimiters,
  ) {
    this.fields = raw.split(d.field);
    this.name = this.fields[0] ?? '';
    this.shift = this.name === 'MSH' ? 1 : 0;
  }

  /** Field n (1-based, as in "OBR-25"), all repetitions, raw. */
  field(n: number): string {
    if (this.shift === 1 && n === 1) return this.d.field;
    return this.fields[n - this.shift] ?? '';
  }

  /** Repetitions of field n. */
  repetitions(n: number): string[] {
    return this.field(n).split(this.d.repetition);
  }

  /** Component c (1-based) of the first repetition of field n, raw. */
  component(n: number, c: number): string {
    const rep = this.field(n);
    const first = rep.includes(this.d.repetition) ? rep.slice(0, rep.indexOf(this.d.repetition)) : rep;
    if (c === 1 && !first.includes(this.d.component)) return first;
    return first.split(this.d.component)[c - 1] ?? '';
  }
}
