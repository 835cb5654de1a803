export { Hl7ParseError, type Hl7Location } from './errors.ts';
export { decodeHl7Escapes, DEFAULT_DELIMITERS, type Hl7Delimiters } from './escapes.ts';
export { splitHl7, splitHl7Messages, type Hl7Garbage, type Hl7Split, type SplitMessage } from './split.ts';
export { parseOruMessage, type OruReport } from './parse-oru.ts';
export { hl7TimestampToIso } from './timestamp.ts';
