import { buildRules, RulesError, type CompiledRules } from './compile.ts';
import { rulesFileSchema } from './rules-file.ts';

/** Validates a rules file (parsed JSON) and compiles it; errors name the offending path. */
export function compileRules(rulesFile: unknown): CompiledRules {
  const parsed = rulesFileSchema.safeParse(rulesFile);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new RulesError(`invalid rules file: ${issues}`);
  }
  return buildRules(parsed.data);
}
