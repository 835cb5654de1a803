import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePorts } from './fault-stack.ts';
import { waitFor } from './report-labeler.ts';

/** The Python that runs moto: MOTO_PYTHON, else python3 on PATH (scripts/bootstrap installs moto there). */
const python = () => process.env.MOTO_PYTHON ?? 'python3';

const INSTALL_HINT =
  "moto's S3 server is needed for the s3:// tests: `bash scripts/bootstrap --with-test-tools` " +
  "installs it (or: python3 -m pip install 'moto[server]'; MOTO_PYTHON names another interpreter)";

/**
 * An S3-compatible server for the tests: moto's server (`python3 -m moto.server`), on a free port
 * of its own, holding everything in memory. With `checkCredentials` it signs nothing in: every
 * request is refused as with unknown keys (InvalidAccessKeyId), as AWS S3 does.
 */
export class TestS3Server {
  private child: ChildProcess | undefined;
  private output = '';
  endpoint = '';

  constructor(private readonly options: { checkCredentials?: boolean } = {}) {}

  /** The S3_* variables a service needs to use this server (any keys: moto checks none by default). */
  get env(): Record<string, string> {
    return {
      S3_ENDPOINT: this.endpoint,
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'fracture-harvester-test',
      AWS_SECRET_ACCESS_KEY: 'fracture-harvester-test-secret',
    };
  }

  async start(): Promise<void> {
    // another process may take the free port before moto binds it: try a few
    for (let attempt = 1; ; attempt++) {
      const [port] = (await freePorts(1)) as [number];
      try {
        await this.startOn(port);
        return;
      } catch (err) {
        if (attempt >= 3 || !/in use/i.test(this.output)) throw err;
      }
    }
  }

  private async startOn(port: number): Promise<void> {
    this.output = '';
    const child = spawn(python(), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(this.options.checkCredentials ? { INITIAL_NO_AUTH_ACTION_COUNT: '0' } : {}),
      },
    });
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    this.child = child;
    this.endpoint = `http://127.0.0.1:${port}`;
    await waitFor(
      'the moto S3 server to answer',
      async () => {
        if (spawnError) throw new Error(`cannot run ${python()}: ${spawnError.message}; ${INSTALL_HINT}`);
        if (child.exitCode !== null) {
          const missing = /No module named/.test(this.output);
          throw new Error(
            `moto exited (${child.exitCode}): ${this.output.slice(-800)}${missing ? `\n${INSTALL_HINT}` : ''}`,
          );
        }
        try {
          await fetch(`${this.endpoint}/moto-api/`);
          return true;
        } catch {
          return false;
        }
      },
      60_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

// `node --import tsx test/support/s3-server.ts`: a moto S3 server to try s3:// storage by hand
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = new TestS3Server();
  await server.start();
  console.log(
    Object.entries(server.env)
      .map(([k, v]) => `export ${k}=${v}`)
      .join('\n'),
  );
  console.log('# Ctrl-C stops it; create a bucket with: curl -X PUT $S3_ENDPOINT/<bucket>');
  process.on('SIGINT', () => void server.stop().then(() => process.exit(0)));
}
