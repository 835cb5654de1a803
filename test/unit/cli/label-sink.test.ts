import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { outputLine } from '../../../services/cli/commands/label-output.ts';
import { LineSink } from '../../../services/cli/commands/label-sink.ts';
import { labelReport, negativeLabels } from '../../../services/shared/report-rules/label-report.ts';

const IDS = ['1-0', 'CXR 123', 'quo"te', 'back\\slash', 'tab\tid', 'ünï', '😀', 'del\u007f', 'ctl\u0001', ''];

/** What label-reports wrote before the sink: outputLine and a line break, for each report. */
function expected(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    const id = `${IDS[i % IDS.length]}${i}`;
    out += outputLine(id, i % 5 === 0 ? labelReport('Old left 6th rib fracture.') : negativeLabels()) + '\n';
  }
  return out;
}

function fill(sink: LineSink, n: number): void {
  for (let i = 0; i < n; i++) {
    const id = `${IDS[i % IDS.length]}${i}`;
    if (i % 5 === 0) sink.line(outputLine(id, labelReport('Old left 6th rib fracture.')));
    else sink.negative(id);
  }
}

describe('label-reports line sink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'label-sink-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Enough lines to fill several 1 MiB buffers.
  const n = 12_000;

  it('writes to a regular file exactly the lines outputLine gives, ids of every kind', async () => {
    const file = join(dir, 'out.jsonl');
    const fd = openSync(file, 'w');
    const sink = new LineSink(negativeLabels(), fd);
    fill(sink, n);
    await sink.end();
    closeSync(fd);
    assert.equal(readFileSync(file, 'utf8'), expected(n));
  });

  it('writes the same to a stream, waiting for it to drain', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const sink = new LineSink(negativeLabels(), -1, stream);
    for (let i = 0; i < 4; i++) {
      fill(sink, n / 4);
      if (sink.waiting) await sink.drain();
    }
    await sink.end();
    const once = expected(n / 4);
    assert.equal(Buffer.concat(chunks).toString('utf8'), once + once + once + once);
  });
});
