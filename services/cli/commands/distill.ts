import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExpectedError } from '../../shared/errors.ts';

/**
 * `harvester distill ...` runs the Python distiller (`python -m distiller ...`) with the project's
 * services/distiller on PYTHONPATH, streaming its output (JSON progress lines on stdout). The
 * interpreter is /usr/bin/python3 (Debian's python3-torch lives there) unless DISTILLER_PYTHON says
 * otherwise, e.g. a GPU machine's own PyTorch environment.
 */

const EXIT_NO_TORCH = 3; // distiller/__main__.py: PyTorch (or numpy) missing

const distillerDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../distiller');

const INSTALL_HINT =
  'PyTorch is missing: on Debian/Ubuntu run `apt-get install python3-torch python3-numpy python3-onnx` ' +
  '(CPU), or point DISTILLER_PYTHON at a Python with PyTorch installed (GPU machines).';

export async function distillCommand(args: string[]): Promise<void> {
  const python = process.env.DISTILLER_PYTHON ?? '/usr/bin/python3';
  const pythonPath = [distillerDir, process.env.PYTHONPATH].filter(Boolean).join(':');
  const code = await new Promise<number>((resolveExit, reject) => {
    const child = spawn(python, ['-m', 'distiller', ...args], {
      stdio: 'inherit',
      env: { ...process.env, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' },
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new ExpectedError(
              `${python} not found: install Python 3 (apt-get install python3) or set DISTILLER_PYTHON`,
            )
          : err,
      );
    });
    child.on('exit', (status, signal) => resolveExit(status ?? (signal ? 128 : 1)));
  });
  if (code === EXIT_NO_TORCH) throw new ExpectedError(INSTALL_HINT);
  if (code !== 0) {
    process.exitCode = code;
    throw new ExpectedError(`the distiller exited with status ${code}`);
  }
}
