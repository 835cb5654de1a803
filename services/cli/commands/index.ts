import type { Command } from 'commander';

/**
 * Every subcommand registers itself here; each lives in its own file under commands/ and is
 * imported lazily inside its action, so `harvester --help` starts fast.
 */
export function registerCommands(program: Command): void {
  program
    .command('aals')
    .description(
      "Sharpen a teacher's probability map into a student target (AALS, PAPER.md) and summarise it",
    )
    .option(
      '--input <file>',
      'probability map: raw little-endian float32 (.f32) or JSON (array, or {"values": [...]})',
    )
    .option(
      '--method <name>',
      'aals | asymmetric (t=0.4, fixed a) | symmetric (t=0.5, fixed a) | none',
      'aals',
    )
    .option('--t <number>', 'AALS sharpening centre t in (0, 1); values above t are pushed up (default 0.4)')
    .option('--a0 <number>', 'AALS maximum strength a0 >= 1, used when the map maximum is 0 (default 4)')
    .option('--a <number>', 'fixed strength a >= 1 for symmetric/asymmetric (default 4)')
    .option('--eps <number>', 'y is clamped into [eps, 1 - eps] before logit; eps in (0, 0.5) (default 1e-6)')
    .option('--output <file>', 'also write the target map (.f32 raw float32, otherwise JSON)')
    .option('--values', 'print every target value, not only the summary')
    .addHelpText(
      'after',
      [
        '',
        'With y the teacher probability at a pixel and y_max the maximum of the map:',
        '  S(y)   = expit(a * logit(y) + (1 - a) * logit(t))',
        '  a      = a0 - (a0 - 1) * y_max   (adaptive: strong when the teacher is unsure)',
        '  target = max(S(y), y)            (never lowers the teacher)',
        'Record-negative images get all-zero targets; this command sharpens one record-positive map.',
        'Library: sharpenAALS(map, { t, a0, eps }) from the package main entry.',
        '',
        'Example: harvester aals --input map.json --a0 4 --t 0.4',
      ].join('\n'),
    )
    .action(async (opts) => (await import('./aals.ts')).aalsCommand(opts));
  program
    .command('distill')
    .description(
      'Train, evaluate and export the detector (Python + PyTorch): distill supervised|distill|evaluate|export ... ' +
        "(`harvester distill --help` for the distiller's own help)",
    )
    .argument('[args...]', 'arguments for `python -m distiller`')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => (await import('./distill.ts')).distillCommand(args));
}
