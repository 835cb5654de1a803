const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

/**
 * HL7 v2 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) to ISO 8601 at the precision given.
 * Without an offset the result is a local time without offset, as the sender meant it.
 * Returns undefined for values that are not timestamps.
 */
export function hl7TimestampToIso(value: string): string | undefined {
  const m = TS.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (mo !== undefined && (+mo < 1 || +mo > 12)) return undefined;
  if (d !== undefined && (+d < 1 || +d > 31)) return undefined;
  if (h !== undefined && +h > 23) return undefined;
  if (mi !== undefined && +mi > 59) return undefined;
  if (s !== undefined && +s > 59) return undefined;
  let iso = y!;
  if (mo !== undefined) iso += `-${mo}`;
  if (d !== undefined) iso += `-${d}`;
  if (h !== undefined) {
    iso += `T${h}:${mi ?? '00'}:${s ?? '00'}`;
    if (frac !== undefined) iso += `.${frac}`;
  }
  if (tz !== undefined) {
    const off = `${tz.slice(0, 3)}:${tz.slice(3)}`;
    iso += h !== undefined ? off : '';
  }
  return iso;
}
