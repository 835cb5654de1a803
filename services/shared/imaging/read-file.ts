import { readFile } from 'node:fs/promises';
import { dicomToModelInput, type ModelInput, type ModelInputOptions } from './decode-image.ts';

/** The file-reading edge around the pure decoder. */
export async function readDicomModelInput(
  path: string,
  options: ModelInputOptions = {},
): Promise<ModelInput> {
  const bytes = await readFile(path);
  return dicomToModelInput(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
}
