/**
 * A vocabulary entry of the rules file: a phrase (case-insensitive, word boundaries, any
 * whitespace) or a regex. Its own module so that the lexicon and the rules-file schema, which
 * imports the lexicon, can both name it without importing each other.
 */
export type Term = string | { pattern: string };
