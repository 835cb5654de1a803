import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes that survive a crash or power loss once they return: the bytes go to a temporary file in
 * the target's folder, are fsync'd, the file is renamed over the target (atomic on POSIX), and the
 * folder is fsync'd so the rename itself is on disk. A reader never sees a partial file.
 */

/** fsync a folder (its entries: a rename or a new file in it). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p, then fsync the parent of every folder it created, so the new path is durable. */
export async function makeDirectoryDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // `first` is the top-most folder created: sync it and everything below it, and its parent
  const created: string[] = [];
  for (let d = dir; d.length >= first.length; d = path.dirname(d)) created.push(d);
  for (const d of [...created, path.dirname(first)]) await syncDirectory(d);
}

/** Moves a complete, already fsync'd temporary file to its final path durably. */
export async function commitFileDurably(tempPath: string, finalPath: string): Promise<void> {
  const dir = path.dirname(finalPath);
  await makeDirectoryDurably(dir);
  await rename(tempPath, finalPath);
  await syncDirectory(dir);
  if (path.dirname(tempPath) !== dir) await syncDirectory(path.dirname(tempPath));
}

/** A temporary name next to `finalPath` (same folder, so the rename stays on one file system). */
export function temporaryNameFor(finalPath: string): string {
  return path.join(
    path.dirname(finalPath),
    `.${path.basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`,
  );
}

/** Writes `data` to `finalPath` durably (temp file, fsync, rename, fsync folder). */
export async function writeFileDurably(finalPath: string, data: Uint8Array | string): Promise<void> {
  await makeDirectoryDurably(path.dirname(finalPath));
  const temp = temporaryNameFor(finalPath);
  const handle = await open(temp, 'wx', 0o640);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await commitFileDurably(temp, finalPath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
