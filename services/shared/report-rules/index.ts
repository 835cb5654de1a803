export { compileRules } from './compile-rules.ts';
export {
  defaultRules,
  RulesError,
  type Acuity,
  type BoneClass,
  type CompiledRules,
  type Side,
} from './compile.ts';
export {
  labelReport,
  type ClassLabel,
  type Cue,
  type Evidence,
  type LabelReason,
  type ReportLabels,
} from './label-report.ts';
export { mergeRulesFiles, rulesFileSchema, type RulesFile } from './rules-file.ts';
export { loadRules } from './load-rules.ts';
export { isChestRadiograph, DEFAULT_CHEST_FILTER, type ChestFilterConfig } from './chest-filter.ts';
export { ribNumbersAround } from './rib-numbers.ts';
