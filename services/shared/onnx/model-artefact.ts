import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createImageStorage } from '../storage/image-storage.ts';
import { ExpectedError } from '../errors.ts';

/** A released model's ONNX file is at most this large (the detectors here are a few MB). */
const MAX_MODEL_BYTES = 1 << 30;

export class ModelArtefactError extends ExpectedError {}

export function defaultModelCacheDir(): string {
  return path.join(tmpdir(), 'fracture-harvester-models');
}

/**
 * Fetches a model by its artefact uri (file://, or s3:// with the S3_* settings: the same storage
 * interface as the DICOM files), checks its sha256 and writes the verified bytes into the cache
 * as <sha256>.onnx, so what is loaded is exactly what was checked. Returns the cached path.
 */
export async function fetchVerifiedModel(
  uri: string,
  sha256: string,
  cacheDir = defaultModelCacheDir(),
): Promise<string> {
  const want = sha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want))
    throw new ModelArtefactError(`model checksum ${sha256} is not a sha256 hex digest`);
  const cached = path.join(cacheDir, `${want}.onnx`);
  if (
    await stat(cached).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return cached;
  let bytes: Uint8Array;
  try {
    bytes = await createImageStorage({ maxBytes: MAX_MODEL_BYTES }).read(uri);
  } catch (err) {
    throw new ModelArtefactError(`cannot read the model at ${uri}: ${(err as Error).message}`);
  }
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want)
    throw new ModelArtefactError(`checksum mismatch for ${uri}: expected ${want}, the file has ${got}`);
  await mkdir(cacheDir, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, cached);
  return cached;
}
