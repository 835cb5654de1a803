import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BATCH,
  BatchClaims,
  BY_HELPER,
  BY_THIS_THREAD,
  helperLoop,
  SharedLabelling,
  type FromHelper,
  type Helper,
  type ToHelper,
} from '../../../services/cli/commands/label-batches.ts';

/**
 * A helper in this thread: messages wait in its inbox until the test lets it work (`work(n)`
 * handles n of them), as a helper thread that is slow, late or never starts would.
 */
class FakeHelper implements Helper {
  readonly inbox: ToHelper[] = [];
  readonly labelled: string[] = [];
  private onMessage: ((m: FromHelper) => void) | null = null;
  private readonly handle = helperLoop(
    (id, text) => {
      this.labelled.push(id);
      return `helper:${id}:${text}`;
    },
    (m) => queueMicrotask(() => this.onMessage!(m)),
  );

  postMessage(m: ToHelper): void {
    // Pages are shared memory: a real helper sees them with the first batch after them.
    this.inbox.push(structuredClone(m));
  }

  on(event: 'message' | 'error' | 'exit', listener: (x: never) => void): this {
    if (event === 'message') this.onMessage = listener as (m: FromHelper) => void;
    return this;
  }

  work(n = Infinity): void {
    for (let i = 0; i < n && this.inbox.length > 0; i++) this.handle(this.inbox.shift()!);
  }
}

function reports(n: number): Array<[string, string]> {
  return Array.from({ length: n }, (_, i) => [`r${i}`, `text ${i}`]);
}

async function allLines(shared: SharedLabelling, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let b = 0; b * BATCH < n; b++) out.push(...(await shared.lines(b)));
  return out;
}

describe('label-reports batches shared with helper threads', () => {
  const ownLabel = (id: string, text: string): string => `own:${id}:${text}`;

  it('a batch is claimed once: the second claim, by either side, fails', () => {
    const mine = new BatchClaims();
    const theirs = new BatchClaims();
    theirs.addPage(mine.addPage());
    assert.equal(theirs.claim(3, BY_HELPER), true);
    assert.equal(mine.claim(3, BY_THIS_THREAD), false);
    assert.equal(mine.claim(4, BY_THIS_THREAD), true);
    assert.equal(theirs.claim(4, BY_HELPER), false);
    assert.equal(mine.covers(4095), true);
    assert.equal(mine.covers(4096), false);
  });

  it('a helper that never starts: this thread labels every report, in order', async () => {
    const helper = new FakeHelper();
    const shared = new SharedLabelling([helper], ownLabel);
    const rs = reports(5 * BATCH + 7);
    for (const [id, text] of rs) shared.add(id, text);
    shared.finish();
    assert.deepEqual(
      await allLines(shared, rs.length),
      rs.map(([id, text]) => `own:${id}:${text}`),
    );
    helper.work(); // starts at last: finds every batch taken
    assert.deepEqual(helper.labelled, []);
  });

  it('a helper that keeps up labels every batch sent before the input ends', async () => {
    const helper = new FakeHelper();
    const shared = new SharedLabelling([helper], ownLabel);
    const rs = reports(4 * BATCH);
    for (const [id, text] of rs) {
      shared.add(id, text);
      helper.work();
    }
    shared.finish();
    assert.deepEqual(
      await allLines(shared, rs.length),
      rs.map(([id, text]) => `helper:${id}:${text}`),
    );
  });

  it('a helper half way through: each report labelled once, by one side, and the lines in order', async () => {
    const helpers = [new FakeHelper(), new FakeHelper()];
    const shared = new SharedLabelling(helpers, ownLabel);
    const rs = reports(20 * BATCH + 5);
    for (const [id, text] of rs) shared.add(id, text);
    helpers[0]!.work(4); // the claims page and three of its batches
    helpers[1]!.work(2);
    shared.finish();
    const lines = allLines(shared, rs.length);
    for (const h of helpers) h.work(); // what is left to them: nothing this thread took
    const out = await lines;
    assert.equal(out.length, rs.length);
    out.forEach((line, i) => assert.match(line, new RegExp(`^(own|helper):r${i}:text ${i}$`)));
    const byHelpers = helpers.flatMap((h) => h.labelled);
    const byThis = out.filter((l) => l.startsWith('own:')).length;
    assert.equal(byHelpers.length + byThis, rs.length);
    assert.ok(byHelpers.length >= 4 * BATCH, `helpers labelled ${byHelpers.length}`);
    assert.ok(byThis > 0);
  });

  it('a helper that fails: waiting for a batch it claimed throws its error', async () => {
    const listeners: { error?: (err: Error) => void } = {};
    const handle = helperLoop(
      () => {
        throw new Error('helper died');
      },
      () => {},
    );
    // As a Worker does: an exception in its message handler is an 'error' event here.
    const helper: Helper = {
      postMessage: (m) => {
        try {
          handle(m);
        } catch (err) {
          queueMicrotask(() => listeners.error!(err as Error));
        }
      },
      on: (event: string, listener: (x: never) => void) => {
        if (event === 'error') listeners.error = listener as (err: Error) => void;
      },
    };
    const shared = new SharedLabelling([helper], ownLabel);
    for (const [id, text] of reports(BATCH)) shared.add(id, text);
    shared.finish();
    await assert.rejects(shared.lines(0), /helper died/);
  });

  it('a helper that stops without an error: waiting for a batch it claimed throws, it does not hang', async () => {
    const listeners: { exit?: (code: number) => void } = {};
    const claims = new BatchClaims();
    const helper: Helper = {
      postMessage: (m) => {
        // Claims what it is sent, then is gone.
        if ('page' in m) claims.addPage(m.page);
        else if (claims.claim(m.batch, BY_HELPER)) queueMicrotask(() => listeners.exit!(0));
      },
      on: (event: string, listener: (x: never) => void) => {
        if (event === 'exit') listeners.exit = listener as (code: number) => void;
      },
    };
    const shared = new SharedLabelling([helper], ownLabel);
    for (const [id, text] of reports(BATCH)) shared.add(id, text);
    shared.finish();
    await assert.rejects(shared.lines(0), /helper thread stopped \(exit code 0\)/);
  });
});
