import { AnnotationFileError } from './annotation-file-error.ts';
import { isRejection, readAnnotator, readClass, readSplit, showValue } from './entry-fields.ts';
import {
  rejection,
  type AnnotationClass,
  type ExpertBoxEntry,
  type FractureFreeEntry,
  type PixelBox,
  type RegionSplit,
  type Rejection,
} from './expert-box.ts';
import type { ParsedAnnotations } from './parse-annotations-json.ts';

interface CocoImage {
  index: number;
  id: unknown;
  annotated: boolean;
  sopInstanceUid?: string;
  split?: RegionSplit | Rejection;
  stated?: { rows: number; columns: number };
}

const DICOM_UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * The SOP Instance UID of a COCO image: its "sop_instance_uid", else the file name when it is the
 * synth's layout dicom/<SOPInstanceUID>.dcm (docs/data-contracts.md).
 */
function sopOfImage(img: Record<string, unknown>): string | undefined {
  if (typeof img.sop_instance_uid === 'string' && img.sop_instance_uid.trim() !== '')
    return img.sop_instance_uid.trim();
  if (typeof img.file_name !== 'string') return undefined;
  const base = img.file_name
    .split(/[\\/]/)
    .pop()!
    .replace(/\.dcm$/i, '');
  return DICOM_UID.test(base) ? base : undefined;
}

const positiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

// x + width in binary floating point can land a hair off the decimal the tool meant
// (0.1 + 0.2); six decimals keep re-imports of the same file on the same natural key.
const corner = (origin: number, extent: number): number => Math.round((origin + extent) * 1e6) / 1e6;

function arrayField(doc: Record<string, unknown>, name: string): unknown[] {
  const v = doc[name];
  if (!Array.isArray(v)) throw new AnnotationFileError(`COCO file has no "${name}" array`);
  return v;
}

/** The three arrays of a COCO document, or a clear error for anything else. */
function cocoArrays(text: string): { images: unknown[]; annotations: unknown[]; categories: unknown[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AnnotationFileError(`not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new AnnotationFileError(
      'a COCO file is an object with "images", "annotations" and "categories" (is it annotations.json? use --format json)',
    );
  const d = doc as Record<string, unknown>;
  const images = arrayField(d, 'images');
  const annotations = arrayField(d, 'annotations');
  const categories = arrayField(d, 'categories');

  return { images, annotations, categories };
}

/** Category id -> rib or clavicle, or the shown name of a category that is neither. */
function classesOfCategories(categories: unknown[]): Map<unknown, AnnotationClass | string> {
  const classOfCategory = new Map<unknown, AnnotationClass | string>();
  for (const c of categories) {
    if (typeof c !== 'object' || c === null) continue;
    const { id, name } = c as Record<string, unknown>;
    const cls = readClass(name, { index: -1, where: '' });
    classOfCategory.set(id, isRejection(cls) ? showValue(name) : cls);
  }

  return classOfCategory;
}

function cocoImagesById(images: unknown[]): Map<unknown, CocoImage> {
  const imageById = new Map<unknown, CocoImage>();
  images.forEach((img, k) => {
    if (typeof img !== 'object' || img === null) return;
    const i = img as Record<string, unknown>;
    if (imageById.has(i.id))
      throw new AnnotationFileError(`COCO images ${k + 1}: id ${showValue(i.id)} appears twice`);
    const split = readSplit(i.split, { index: -1, where: '' });
    imageById.set(i.id, {
      index: k,
      id: i.id,
      annotated: false,
      sopInstanceUid: sopOfImage(i),
      ...(split ? { split } : {}),
      ...(positiveInteger(i.width) && positiveInteger(i.height)
        ? { stated: { rows: i.height, columns: i.width } }
        : {}),
    });
  });

  return imageById;
}

/** One COCO annotation checked into an expert box, or the reason it is refused. */
function annotationEntry(
  ann: unknown,
  index: number,
  imageById: Map<unknown, CocoImage>,
  classOfCategory: Map<unknown, AnnotationClass | string>,
): ExpertBoxEntry | Rejection {
  const id = typeof ann === 'object' && ann !== null ? (ann as Record<string, unknown>).id : undefined;
  const at = { index, where: `annotation ${index + 1}${id === undefined ? '' : ` (id ${showValue(id)})`}` };
  if (typeof ann !== 'object' || ann === null || Array.isArray(ann)) {
    return rejection(at, 'not-an-object', `expected an object, got ${showValue(ann)}`);
  }
  const a = ann as Record<string, unknown>;
  const image = imageById.get(a.image_id);
  if (image) image.annotated = true;
  if (!image) {
    return rejection(at, 'missing-image', `image_id ${showValue(a.image_id)} is not in "images"`);
  }
  if (!image.sopInstanceUid) {
    return rejection(
      at,
      'missing-image',
      `image ${showValue(a.image_id)} has no sop_instance_uid and its file_name is not dicom/<SOPInstanceUID>.dcm`,
    );
  }
  const category = classOfCategory.get(a.category_id);
  if (category === undefined) {
    return rejection(at, 'unknown-class', `category_id ${showValue(a.category_id)} is not in "categories"`);
  }
  if (category !== 'rib' && category !== 'clavicle') {
    return rejection(at, 'unknown-class', `category ${category} is not rib or clavicle`);
  }
  const bbox = a.bbox;
  if (
    !Array.isArray(bbox) ||
    bbox.length !== 4 ||
    !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    return rejection(at, 'bad-box', `bbox must be [x, y, width, height] numbers, got ${showValue(bbox)}`);
  }
  const [x, y, w, h] = bbox as number[] as [number, number, number, number];
  if (!(w > 0 && h > 0)) {
    return rejection(at, 'bad-box', `bbox ${showValue(bbox)} has no area (width and height must be > 0)`);
  }
  const box: PixelBox = [x, y, corner(x, w), corner(y, h)];
  if (isRejection(image.split)) {
    return { ...image.split, index: at.index, where: `${at.where}: its image` };
  }
  const own = readSplit(a.split, at);
  if (isRejection(own)) return own;
  if (own && image.split && own !== image.split) {
    return rejection(
      at,
      'split-conflict',
      `annotation says ${own}, its image ${showValue(a.image_id)} says ${image.split}`,
    );
  }
  const split = own ?? image.split;
  const annotator = readAnnotator(a.annotator);
  return {
    ...at,
    sopInstanceUid: image.sopInstanceUid,
    class: category,
    box,
    ...(split ? { split } : {}),
    ...(annotator ? { annotator } : {}),
    ...(image.stated ? { stated: image.stated } : {}),
  };
}

/** Every image listed with no annotation at all was reviewed and found fracture-free (D_R negatives). */
function fractureFreeImages(
  imageById: Map<unknown, CocoImage>,
  annotationCount: number,
  rejects: Rejection[],
): FractureFreeEntry[] {
  const fractureFree: FractureFreeEntry[] = [];
  for (const image of imageById.values()) {
    if (image.annotated) continue;
    const at = {
      index: annotationCount + image.index,
      where: `image ${image.index + 1} (id ${showValue(image.id)})`,
    };
    if (!image.sopInstanceUid) {
      rejects.push(
        rejection(
          at,
          'missing-image',
          'image has no sop_instance_uid and its file_name is not dicom/<SOPInstanceUID>.dcm',
        ),
      );
      continue;
    }
    if (isRejection(image.split)) {
      rejects.push({ ...image.split, ...at });
      continue;
    }
    fractureFree.push({
      ...at,
      sopInstanceUid: image.sopInstanceUid,
      ...(image.split ? { split: image.split } : {}),
      ...(image.stated ? { stated: image.stated } : {}),
    });
  }
  return fractureFree;
}

/**
 * annotations.coco.json as `harvester synth` writes it: images (id, file_name dicom/<sop>.dcm,
 * sop_instance_uid, split, width, height), categories matched by name (rib, clavicle), annotations
 * with bbox [x, y, width, height] and the split of the annotation or else its image. Annotations
 * are numbered from 1 in messages, with their COCO id.
 */
export function parseCocoAnnotations(text: string): ParsedAnnotations {
  const { images, annotations, categories } = cocoArrays(text);
  const classOfCategory = classesOfCategories(categories);
  const imageById = cocoImagesById(images);
  const entries: ExpertBoxEntry[] = [];
  const rejects: Rejection[] = [];
  annotations.forEach((ann, index) => {
    const checked = annotationEntry(ann, index, imageById, classOfCategory);
    if ('reason' in checked) rejects.push(checked);
    else entries.push(checked);
  });
  const fractureFree = fractureFreeImages(imageById, annotations.length, rejects);
  return { entries, fractureFree, rejects, total: annotations.length };
}
