/** Which procedures count as chest radiographs; a hospital passes its own codes and words. */
export interface ChestFilterConfig {
  /** Procedure codes (OBR-4.1) that are chest radiographs, compared case-insensitively. */
  codes: readonly string[];
  /** The procedure text must match one of these (case-insensitive regex sources)... */
  textIncludes: readonly string[];
  /** ...and none of these (other modalities or body parts named together with the chest). */
  textExcludes: readonly string[];
}

export const DEFAULT_CHEST_FILTER: ChestFilterConfig = {
  // CPT chest radiography 71045-71048 and the older 71010-71035; LOINC chest X-ray panels.
  codes: [
    '71045',
    '71046',
    '71047',
    '71048',
    '71010',
    '71015',
    '71020',
    '71021',
    '71022',
    '71023',
    '71030',
    '71035',
    '36554-4',
    '36572-6',
    '24648-8',
    '30745-4',
    '36687-2',
    '42272-5',
    '24627-2',
  ],
  textIncludes: [
    '\\b(?:xr|x-ray|xray|cr|dx|radiograph\\w*|film|plain film|roentgen\\w*|pa|ap|portable|cxr)\\b.*\\b(?:chest|thorax|thoracic|ribs?)\\b',
    '\\b(?:chest|thorax|ribs?)\\b.*\\b(?:xr|x-ray|xray|radiograph\\w*|views?|pa|ap|portable|frontal|lateral|1v|2v|\\d\\s*views?)\\b',
    '\\bcxr\\b',
  ],
  textExcludes: [
    '\\b(?:ct|cta|mri?|mra|pet|us|ultrasound|sonograph\\w*|fluoro\\w*|nuclear|angio\\w*|spine)\\b',
  ],
};

const compiled = new WeakMap<ChestFilterConfig, { codes: Set<string>; inc: RegExp[]; exc: RegExp[] }>();

function compile(config: ChestFilterConfig): { codes: Set<string>; inc: RegExp[]; exc: RegExp[] } {
  let c = compiled.get(config);
  if (!c) {
    c = {
      codes: new Set(config.codes.map((x) => x.trim().toUpperCase())),
      inc: config.textIncludes.map((s) => new RegExp(s, 'i')),
      exc: config.textExcludes.map((s) => new RegExp(s, 'i')),
    };
    compiled.set(config, c);
  }
  return c;
}

/**
 * Whether a report is a chest radiograph: a known procedure code, or else a procedure text that
 * names a radiograph of the chest (or ribs) and no other modality.
 */
export function isChestRadiograph(
  procedureCode: string | null,
  procedureText: string | null,
  config: ChestFilterConfig = DEFAULT_CHEST_FILTER,
): boolean {
  const c = compile(config);
  if (procedureCode && c.codes.has(procedureCode.trim().toUpperCase())) return true;
  if (!procedureText) return false;
  if (c.exc.some((re) => re.test(procedureText))) return false;
  return c.inc.some((re) => re.test(procedureText));
}
