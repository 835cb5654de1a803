import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { FailureError } from '../errors.ts';

/**
 * Decodes a raw HL7 v2 message according to MSH-18. HL7 defaults to ASCII when MSH-18 is empty; in
 * practice feeds without MSH-18 send UTF-8, which is a superset, so that is how we read them.
 * Character sets we cannot decode faithfully are refused rather than guessed (a wrong guess would
 * silently change report text, and the text is what the labels come from).
 */
export class UnknownEncodingError extends FailureError {}

// MSH-18 values (HL7 table 0211) mapped to WHATWG encoding labels Node's TextDecoder knows.
const CHARSETS: Record<string, string> = {
  '': 'utf-8',
  ASCII: 'utf-8',
  'UNICODE UTF-8': 'utf-8',
  'UTF-8': 'utf-8',
  '8859/1': 'latin1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  '8859/9': 'windows-1254',
  '8859/15': 'iso-8859-15',
};

export function supportedCharsets(): string[] {
  return Object.keys(CHARSETS).filter(Boolean);
}

export function decodeHl7(raw: Buffer, characterSet: string): string {
  const label = CHARSETS[characterSet.toUpperCase()];
  if (label === undefined) {
    throw new UnknownEncodingError(
      `MSH-18 character set ${JSON.stringify(characterSet.slice(0, 40))} is not supported`,
    );
  }
  if (label === 'latin1') return raw.toString('latin1');
  if (label === 'utf-8') {
    // the common case, on the hot path: native validation, then native decoding
    if (!isUtf8(raw))
      throw new UnknownEncodingError(`bytes are not valid ${characterSet || 'UTF-8 (MSH-18 empty)'}`);
    return raw.toString('utf8');
  }
  try {
    return decoderFor(label).decode(raw);
  } catch {
    throw new UnknownEncodingError(`bytes are not valid ${characterSet}`);
  }
}

const decoders = new Map<string, TextDecoder>();

function decoderFor(label: string): TextDecoder {
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label, { fatal: true });
    decoders.set(label, decoder);
  }
  return decoder;
}
