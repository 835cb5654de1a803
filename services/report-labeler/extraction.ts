import { parseOruMessage } from '../shared/hl7/index.ts';
import { isChestRadiograph, labelReport } from '../shared/report-rules/index.ts';
import type { ExtractionDeps } from './extract.ts';

/** Extraction wired to the HL7 parser and the report rules: what the service and the backfill label with. */
export function reportExtraction(
  settings: Pick<ExtractionDeps, 'hmacKey' | 'maxMessageBytes' | 'maxReportChars'>,
): ExtractionDeps {
  return {
    parseOruMessage,
    isChestRadiograph: (code, text) => isChestRadiograph(code, text),
    labelReport,
    ...settings,
  };
}
