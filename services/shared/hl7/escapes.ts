/** The delimiters a message declares in MSH-1/MSH-2 (HL7 allows others than |^~\&). */
export interface Hl7Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const DEFAULT_DELIMITERS: Hl7Delimiters = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
};

const cache = new Map<string, RegExp>();

function escapePattern(esc: string): RegExp {
  let re = cache.get(esc);
  if (!re) {
    const e = esc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // An escape sequence never contains the escape character itself; keep it short to stay linear.
    re = new RegExp(`${e}([^${e}\\r\\n]{1,64})${e}`, 'g');
    cache.set(esc, re);
  }
  return re;
}

/**
 * Decodes HL7 v2 escape sequences in one pass (so a decoded "\E\" never starts a new sequence):
 * \F\ \S\ \T\ \R\ \E\ give the delimiters, \Xhh..\ the bytes (UTF-8), \.br\ and \.sp\ line breaks;
 * highlighting (\H\ \N\), character-set (\C..\ \M..\), local (\Z..\) and other formatting
 * commands (\.in\ \.ti\ \.ce\ \.fi\ \.nf\ \.sk\) carry no report text and are dropped.
 * Unknown sequences are kept as they are.
 */
export function decodeHl7Escapes(raw: string, d: Hl7Delimiters = DEFAULT_DELIMITERS): string {
  if (!raw.includes(d.escape)) return raw;
  return raw.replace(escapePattern(d.escape), (whole, body: string) => {
    switch (body) {
      case 'F':
        return d.field;
      case 'S':
        return d.component;
      case 'T':
        return d.subcomponent;
      case 'R':
        return d.repetition;
      case 'E':
        return d.escape;
      case 'H':
      case 'N':
      case '.br':
        return body === '.br' ? '\n' : '';
      case '.fi':
      case '.nf':
      case '.ce':
        return '';
    }
    const c0 = body.charCodeAt(0);
    if (body[0] === 'X' && /^X(?:[0-9A-Fa-f]{2})+$/.test(body)) {
      return Buffer.from(body.slice(1), 'hex').toString('utf8');
    }
    if (body.startsWith('.sp')) {
      const n = body.length > 3 ? Number.parseInt(body.slice(3), 10) : 1;
      return Number.isFinite(n) && n > 0 ? '\n'.repeat(Math.min(n, 20)) : '\n';
    }
    if (/^\.(?:in|ti|sk)[+-]?\d*$/.test(body)) return '';
    // \Cxxyy\, \Mxxyyzz\ (character set switches) and \Z...\ (locally defined).
    if (c0 === 67 /* C */ && /^C[0-9A-Fa-f]{4}$/.test(body)) return '';
    if (c0 === 77 /* M */ && /^M[0-9A-Fa-f]{4,6}$/.test(body)) return '';
    if (c0 === 90 /* Z */) return '';
    return whole;
  });
}
