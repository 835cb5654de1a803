import type { Command } from 'commander';

/**
 * `harvester label-reports`, registered here so the full CLI and its fast entry
 * (services/cli/label-reports-main.ts) offer the same options and help.
 */
export function registerLabelReports(program: Command): void {
  program
    .command('label-reports')
    .description(
      'Label reports with the fracture rules: one JSON line per report on stdout ' +
        '({"id","rib","clavicle","other","ruleVersion"}; each class with status, acuity, side, ribs, ' +
        'evidence, cue and reasons); bad rows, messages and lines on stderr with where they are',
    )
    .requiredOption(
      '--input <file>',
      'reports: CSV (uid, findings, impression), JSONL ({"id","text"}) or HL7 ORU',
    )
    .option('--format <format>', 'csv | jsonl | hl7 (default: from the file extension)')
    .option('--rules <file>', 'local rules file merged on top of the shipped fracture-rules.json')
    .option('--chest-only', 'HL7: skip reports whose procedure is not a chest radiograph')
    .option(
      '--threads <n>',
      'threads labelling a large CSV/JSONL input (default: 1 + the cores the load leaves idle, at most 4)',
    )
    .action(async (opts) => (await import('./label-reports.ts')).labelReportsCommand(opts));
}
