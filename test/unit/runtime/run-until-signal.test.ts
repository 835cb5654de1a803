import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../../services/shared/observability/logger.ts';
import { runUntilSignal } from '../../../services/shared/runtime/run-until-signal.ts';

const logger = createLogger('run-until-signal-test', 'silent');

/** process.emit runs the listeners only: the test process itself gets no signal. */
function emitSignal(signal: 'SIGTERM' | 'SIGINT'): void {
  (process.emit as (event: string) => boolean)(signal);
}

describe('runUntilSignal', () => {
  it('stops the service gracefully on SIGTERM and then resolves', async () => {
    let stops = 0;
    const running = runUntilSignal({ stop: async () => void stops++ }, logger);
    emitSignal('SIGTERM');
    await running;
    assert.equal(stops, 1);
    emitSignal('SIGINT'); // the other listener is still there: runs stop again harmlessly
  });

  it('rejects when the graceful stop fails, so the command exits non-zero', async () => {
    const running = runUntilSignal(
      {
        stop: async () => {
          throw new Error('producer would not disconnect');
        },
      },
      logger,
    );
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
    const running = runUntilSignal({ stop: async () => void stops++, stopped }, logger);
    crash(new Error('consumer crashed'));
    await assert.rejects(running, /consumer crashed/);
    assert.equal(stops, 1);
    emitSignal('SIGTERM');
    emitSignal('SIGINT');
  });
});
