import { readFileSync } from 'node:fs';
import { defaultRules, RulesError, type CompiledRules } from './compile.ts';
import { compileRules } from './compile-rules.ts';
import defaultRulesFile from './fracture-rules.json' with { type: 'json' };
import { mergeRulesFiles } from './rules-file.ts';

/**
 * The shipped rules, or the shipped rules with a hospital's local rules file merged on top
 * (an edge helper: it reads a file; the engine itself does no I/O).
 */
export function loadRules(localRulesPath?: string): CompiledRules {
  if (!localRulesPath) return defaultRules();
  let local: unknown;
  try {
    local = JSON.parse(readFileSync(localRulesPath, 'utf8'));
  } catch (err) {
    throw new RulesError(`cannot read local rules file ${localRulesPath}: ${(err as Error).message}`);
  }
  try {
    return compileRules(mergeRulesFiles(structuredClone(defaultRulesFile), local));
  } catch (err) {
    if (err instanceof RulesError) throw new RulesError(`${localRulesPath}: ${err.message}`);
    throw new RulesError(`${localRulesPath}: ${(err as Error).message}`);
  }
}
