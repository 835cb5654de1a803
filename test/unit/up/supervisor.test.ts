import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { nextRestart } from '../../../services/up/restart-policy.ts';
import { SupervisedProcess, type SupervisorEvent } from '../../../services/up/supervised-process.ts';

describe('the restart policy', () => {
  const policy = { initialMs: 1000, maxMs: 8000, stableMs: 60_000 };

  it('doubles the delay after each quick crash, up to the cap', () => {
    let crashes = 0;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = nextRestart(crashes, 500, policy);
      delays.push(next.delayMs);
      crashes = next.crashes;
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('starts over after a run that lasted (the service was not crash-looping)', () => {
    assert.deepEqual(nextRestart(5, 60_000, policy), { delayMs: 1000, crashes: 1 });
  });
});

describe('a supervised service', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fh-supervisor-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const supervise = (name: string, script: string, events: SupervisorEvent[]) =>
    new SupervisedProcess({
      name,
      command: process.execPath,
      args: ['-e', script],
      cwd: dir,
      env: process.env,
      logFile: path.join(dir, `${name}.log`),
      policy: { initialMs: 20, maxMs: 40, stableMs: 60_000 },
      onEvent: (e) => events.push(e),
    });

  const untilLogged = async (name: string, text: string) => {
    while (!readFileSync(path.join(dir, `${name}.log`), { encoding: 'utf8', flag: 'a+' }).includes(text))
      await new Promise((r) => setTimeout(r, 10));
  };

  it('is started again with back-off each time it exits on its own, its output in the log', async () => {
    const events: SupervisorEvent[] = [];
    const service = supervise('crashy', 'console.log("up"); process.exit(3)', events);
    service.start();
    while (events.filter((e) => e.kind === 'started').length < 3) await new Promise((r) => setTimeout(r, 10));
    await service.stop();
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 6), [
      'started',
      'exited',
      'restarting',
      'started',
      'exited',
      'restarting',
    ]);
    // the crashes exit 3 on their own; the last run may be the one stop() ended
    const exits = events.filter((e) => e.kind === 'exited').slice(0, 2);
    assert.ok(exits.every((e) => e.kind === 'exited' && e.code === 3));
    const delays = events.flatMap((e) => (e.kind === 'restarting' ? [e.inMs] : []));
    assert.deepEqual(delays.slice(0, 2), [20, 40]);
    assert.ok(service.restarts >= 2);
    assert.equal(kinds.at(-1), 'stopped');
    assert.match(readFileSync(path.join(dir, 'crashy.log'), 'utf8'), /^up\nup\n/);
  });

  it('is stopped with SIGTERM (a graceful stop) and not started again', async () => {
    const events: SupervisorEvent[] = [];
    const service = supervise(
      'steady',
      'process.on("SIGTERM", () => { console.log("graceful"); process.exit(0); }); setInterval(() => {}, 1000); console.log("ready")',
      events,
    );
    service.start();
    await untilLogged('steady', 'ready');
    await service.stop();
    assert.deepEqual(
      events.map((e) => e.kind),
      ['started', 'exited', 'stopped'],
    );
    assert.equal(service.state, 'stopped');
    assert.match(readFileSync(path.join(dir, 'steady.log'), 'utf8'), /graceful/);
  });

  it('once retired (Ctrl-C reached the whole group), is not started again when it exits by itself', async () => {
    const events: SupervisorEvent[] = [];
    const service = supervise(
      'interrupted',
      'process.on("SIGINT", () => process.exit(0)); setInterval(() => {}, 1000); console.log("ready")',
      events,
    );
    service.start();
    await untilLogged('interrupted', 'ready');
    const pid = events.find((e) => e.kind === 'started')!;
    service.retire();
    process.kill(pid.kind === 'started' ? pid.pid : 0, 'SIGINT');
    while (!events.some((e) => e.kind === 'exited')) await new Promise((r) => setTimeout(r, 10));
    // a restart would come after the 20 ms back-off; wait well past it
    await new Promise((r) => setTimeout(r, 200));
    await service.stop();
    assert.deepEqual(
      events.map((e) => e.kind),
      ['started', 'exited', 'stopped'],
    );
    assert.equal(service.restarts, 0);
  });
});
