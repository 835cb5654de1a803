import { FailureError } from '../errors.ts';
/** A configuration problem found at start-up; its message says what to set. (No zod here: the CLI's fast entry imports it.) */
export class ConfigError extends FailureError {}
