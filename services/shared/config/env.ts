import { z } from 'zod';
import { ConfigError } from './config-error.ts';

/** Raised when configuration is missing or invalid; its message says what to set. */
export { ConfigError };

/**
 * Validates environment variables against a zod schema at start-up. Each problem is reported with
 * the variable's name and what it must hold, so an operator knows what to set.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(environment)';
    return `  ${key}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration; set these environment variables:\n${lines.join('\n')}`);
}
