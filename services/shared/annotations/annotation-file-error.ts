/** A file that cannot be read as annotations at all (not one bad row): the CLI prints it on one line. */
export class AnnotationFileError extends Error {
  readonly expected = true;
  constructor(message: string) {
    super(message);
    this.name = 'AnnotationFileError';
  }
}
