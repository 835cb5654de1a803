import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ExpectedError } from '../../shared/errors.ts';

/** A path the user named that cannot be read: one clear line, nothing else started. */
export class ArchiveInputError extends ExpectedError {}

/**
 * The files of an archive: the path itself when it is a file, otherwise every file below the
 * folder (recursive, hidden entries skipped) that `accept` takes, in a stable (sorted) order so a
 * resumed run walks the archive the same way.
 */
export async function listArchiveFiles(
  path: string,
  accept: (name: string) => boolean,
  what: string,
): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new ArchiveInputError(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  if (info.isFile()) return [path];
  if (!info.isDirectory()) throw new ArchiveInputError(`${what} ${path} is neither a file nor a folder`);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && accept(e.name)) files.push(full);
    }
  };
  await walk(path);
  return files;
}

/** HL7 archive files: *.hl7 (any case). */
export const isHl7FileName = (name: string): boolean => extname(name).toLowerCase() === '.hl7';

/** DICOM files: *.dcm (any case) or no extension at all, as PACS exports often name them. */
export const isDicomFileName = (name: string): boolean => {
  const ext = extname(name).toLowerCase();
  return ext === '.dcm' || ext === '';
};
