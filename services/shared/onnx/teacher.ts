import { DETECTOR_CLASSES } from '../vocabulary.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from './execution-providers.ts';
import type { Logger } from '../observability/logger.ts';
import { ExpectedError } from '../errors.ts';

/** The teacher's maps of one image: one Float32Array (h x w) per detector class. */
export interface TeacherMaps {
  maps: Float32Array[];
  height: number;
  width: number;
}

/** What the pseudo-labeler needs of a teacher (ONNX here; a fake in unit tests). */
export interface Teacher {
  readonly version: string;
  readonly provider: ExecutionProviderName;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Runs one batch of preprocessed images (each inputHeight x inputWidth, values in [0, 1]). */
  run(images: Float32Array[]): Promise<TeacherMaps[]>;
  release(): Promise<void>;
}

export interface TeacherOptions {
  modelPath: string;
  version?: string;
  providers: readonly ExecutionProviderName[];
  intraOpThreads: number;
  /** Input side used when the model's input shape is symbolic. */
  fallbackInputSize: number;
  logger: Logger;
}

/** The folder onnxruntime-node loads its native libraries (and provider libraries) from. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Why the CUDA provider cannot load, or null when its libraries are in place. onnxruntime-node's
 * npm package ships CPU binaries only; the CUDA provider libraries of the same ORT version come
 * from the onnxruntime-gpu wheel on PyPI (onnxruntime/capi/libonnxruntime_providers_{cuda,shared}.so).
 */
export function cudaProviderProblem(dir: string = ortBinaryDir()): string | null {
  const missing = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].filter(
    (f) => !existsSync(path.join(dir, f)),
  );
  if (missing.length === 0) return null;
  return `${missing.join(' and ')} not in ${dir} (copy them from the onnxruntime-gpu ${ort.env.versions.common} wheel's onnxruntime/capi/)`;
}

/** The ONNX detector (docs/data-contracts.md): input `image` [N,1,H,W], output `prob` [N,2,h,w]. */
export class OnnxTeacher implements Teacher {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly version: string,
    readonly provider: ExecutionProviderName,
    readonly inputWidth: number,
    readonly inputHeight: number,
  ) {}

  static async load(options: TeacherOptions): Promise<OnnxTeacher> {
    const { modelPath, logger } = options;
    if (!existsSync(modelPath)) {
      throw new ExpectedError(
        `teacher model ${modelPath} does not exist: set TEACHER_MODEL_PATH to an ONNX file exported by the distiller`,
      );
    }
    const bytes = readFileSync(modelPath);
    const version =
      options.version ?? `sha256-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
    let session: ort.InferenceSession | undefined;
    let provider: ExecutionProviderName | undefined;
    const failures: string[] = [];
    for (const candidate of options.providers) {
      if (candidate === 'cuda') {
        const problem = cudaProviderProblem();
        if (problem) {
          failures.push(`cuda: ${problem}`);
          logger.warn(
            { provider: 'cuda', reason: problem },
            'CUDA execution provider unavailable; trying the next',
          );
          continue;
        }
      }
      try {
        session = await ort.InferenceSession.create(bytes, {
          executionProviders: [candidate],
          graphOptimizationLevel: 'all',
          ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
        });
        provider = candidate;
        break;
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0]!.slice(0, 300);
        failures.push(`${candidate}: ${reason}`);
        logger.warn({ provider: candidate, reason }, 'execution provider failed to load; trying the next');
      }
    }
    if (!session || !provider) {
      throw new ExpectedError(`no execution provider could load the teacher: ${failures.join('; ')}`);
    }
    if (!session.inputNames.includes('image') || !session.outputNames.includes('prob')) {
      await session.release();
      throw new ExpectedError(
        `teacher ${modelPath} must have input "image" and output "prob" (docs/data-contracts.md); ` +
          `it has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
      );
    }
    const meta = session.inputMetadata.find((m) => m.name === 'image');
    const shape = meta && meta.isTensor ? meta.shape : [];
    const side = (d: unknown) => (typeof d === 'number' && d > 0 ? d : options.fallbackInputSize);
    const teacher = new OnnxTeacher(session, version, provider, side(shape[3]), side(shape[2]));
    logger.info(
      {
        provider,
        fellBackFrom: failures.length > 0 ? failures : undefined,
        version,
        input: [teacher.inputHeight, teacher.inputWidth],
        ort: ort.env.versions.common,
      },
      `teacher loaded on the ${provider.toUpperCase()} execution provider`,
    );
    return teacher;
  }

  async run(images: Float32Array[]): Promise<TeacherMaps[]> {
    const n = images.length;
    const plane = this.inputHeight * this.inputWidth;
    const input = new Float32Array(n * plane);
    images.forEach((img, i) => {
      if (img.length !== plane) {
        throw new Error(
          `image ${i} holds ${img.length} values, expected ${this.inputHeight} x ${this.inputWidth}`,
        );
      }
      input.set(img, i * plane);
    });
    const feeds = { image: new ort.Tensor('float32', input, [n, 1, this.inputHeight, this.inputWidth]) };
    const out = await this.session.run(feeds);
    const prob = out.prob!;
    const [batch, classes, h, w] = prob.dims as number[];
    if (batch !== n || classes! < DETECTOR_CLASSES.length) {
      throw new Error(`teacher output has shape [${prob.dims.join(', ')}], expected [${n}, 2, h, w]`);
    }
    const data = prob.data as Float32Array;
    const cell = h! * w!;
    const result: TeacherMaps[] = [];
    for (let i = 0; i < n; i++) {
      const maps: Float32Array[] = [];
      for (let c = 0; c < DETECTOR_CLASSES.length; c++) {
        const start = (i * classes! + c) * cell;
        maps.push(data.slice(start, start + cell));
      }
      result.push({ maps, height: h!, width: w! });
    }
    prob.dispose?.();
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
