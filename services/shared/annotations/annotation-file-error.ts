import { ExpectedError } from '../errors.ts';
/** A file that cannot be read as annotations at all (not one bad row): the CLI prints it on one line. */
export class AnnotationFileError extends ExpectedError {}
