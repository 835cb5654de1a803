import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../../services/shared/observability/logger.ts';
import {
  runServiceUntilSignal,
  type StoppableService,
} from '../../../services/shared/runtime/run-until-signal.ts';

const logger = createLogger('run-until-signal-test', 'silent');

/** process.emit runs the listeners only: the test process itself gets no signal. */
function emitSignal(signal: 'SIGTERM' | 'SIGINT'): void {
  (process.emit as (event: string) => boolean)(signal);
}

const started = (service: StoppableService) => async () => service;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runServiceUntilSignal', () => {
  it('stops the service gracefully on SIGTERM and then resolves', async () => {
    let stops = 0;
    const running = runServiceUntilSignal(started({ stop: async () => void stops++ }), logger);
    await tick();
    emitSignal('SIGTERM');
    await running;
    assert.equal(stops, 1);
    emitSignal('SIGINT'); // the other listener is still there: it must not stop the service again
    await tick();
    assert.equal(stops, 1);
  });

  it('stops once when Ctrl-C (SIGINT to the group) and the supervisor (SIGTERM) both ask', async () => {
    let stops = 0;
    let finishStop: () => void = () => {};
    const running = runServiceUntilSignal(
      started({
        stop: () => {
          stops++;
          if (stops > 1) return Promise.reject(new Error('Called end on pool more than once'));
          return new Promise<void>((resolve) => {
            finishStop = resolve;
          });
        },
      }),
      logger,
    );
    await tick();
    emitSignal('SIGINT');
    emitSignal('SIGTERM'); // arrives while the first stop is still finishing its batch
    finishStop();
    await running;
    assert.equal(stops, 1);
  });

  it('rejects when the graceful stop fails, so the command exits non-zero', async () => {
    const running = runServiceUntilSignal(
      started({
        stop: async () => {
          throw new Error('producer would not disconnect');
        },
      }),
      logger,
    );
    await tick();
    emitSignal('SIGINT');
    await assert.rejects(running, /producer would not disconnect/);
    emitSignal('SIGTERM');
  });

  it('stops the service and rejects with its error when it stops on its own', async () => {
    let stops = 0;
    let crash: (err: Error) => void = () => {};
    const stopped = new Promise<void>((_resolve, reject) => {
      crash = reject;
    });
    const running = runServiceUntilSignal(started({ stop: async () => void stops++, stopped }), logger);
    await tick();
    crash(new Error('consumer crashed'));
    await assert.rejects(running, /consumer crashed/);
    assert.equal(stops, 1);
    emitSignal('SIGTERM');
    emitSignal('SIGINT');
  });

  it('a signal while the service is still starting (waiting for topics) aborts the start and resolves', async () => {
    let aborted = false;
    const running = runServiceUntilSignal(
      (signal) =>
        new Promise<StoppableService>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('stopped while waiting for topics'));
          });
        }),
      logger,
    );
    emitSignal('SIGTERM');
    await running;
    assert.equal(aborted, true);
    emitSignal('SIGINT');
  });

  it('rejects with the start-up error when the start fails on its own', async () => {
    const running = runServiceUntilSignal(async () => {
      throw new Error('cannot reach the Kafka brokers');
    }, logger);
    await assert.rejects(running, /cannot reach the Kafka brokers/);
    emitSignal('SIGTERM');
    emitSignal('SIGINT');
  });
});
