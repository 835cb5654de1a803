import { z } from 'zod';

/** onnxruntime execution providers a model may run on, in the order a list prefers them. */
export const EXECUTION_PROVIDERS = ['cuda', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** A comma-separated list of onnxruntime execution providers, in order of preference (default cuda,cpu). */
export function executionProvidersEnv(name: string) {
  return z
    .string()
    .default('cuda,cpu')
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.enum(EXECUTION_PROVIDERS, {
            error: `${name} must list providers from: ${EXECUTION_PROVIDERS.join(', ')}`,
          }),
        )
        .min(1, `${name} must name at least one provider, e.g. cuda,cpu`),
    );
}
