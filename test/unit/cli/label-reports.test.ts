import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { oru } from '../hl7/fixtures.ts';

const CLI = fileURLToPath(new URL('../../../bin/harvester.js', import.meta.url));

/** The parts of an output line these tests read. */
interface ClassJson {
  status: string;
  side: string;
  cue: string | null;
  reasons: Array<{ section: string; status: string; decided: boolean }>;
}
interface Line {
  id: string;
  rib: ClassJson;
  clavicle: ClassJson;
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, 'label-reports', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, ...env },
  });
  return {
    code: r.status,
    lines: r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line),
    stderr: r.stderr,
  };
}

describe('harvester label-reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'label-reports-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const message = (n: number, text: string): string =>
    oru({ controlId: `M${n}`, obr: [{ accession: `A${n}`, obx: [`OBX|1|TX|R||${text}||||||F`] }] });

  it('a line of garbage between HL7 messages is its own bad input; no valid message is lost', () => {
    // Issue 15: one garbage line after a valid ORU used to take that message with it.
    const file = join(dir, 'feed.hl7');
    const msgs = [1, 2, 3, 4, 5, 6, 7].map((n) => message(n, n === 6 ? 'L clavicle fx' : 'Lungs are clear.'));
    const lines = msgs.map((m) => m.replace(/\r/g, '\n'));
    lines.splice(6, 0, 'this line is not an HL7 segment');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = run(['--input', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(
      r.lines.map((l) => l.id),
      ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7'],
    );
    const garbageLine = msgs.slice(0, 6).reduce((n, m) => n + m.split('\r').length, 0) + 1;
    assert.match(
      r.stderr,
      new RegExp(`feed\\.hl7: line ${garbageLine} \\(offset \\d+\\): not an HL7 segment`),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `7 reports labelled, 1 skipped \\(1 line that is not an HL7 segment, first: line ${garbageLine} \\(offset`,
      ),
    );
    // "L clavicle fx" gets its side.
    const a6 = r.lines.find((l) => l.id === 'A6')!;
    assert.deepEqual([a6.clavicle.status, a6.clavicle.side], ['positive', 'left']);
  });

  it('each class label carries its evidence, cue and reasons', () => {
    const file = join(dir, 'reports.jsonl');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'r1',
        findings: 'Left 6th rib fracture.',
        impression: 'Possible left rib fracture.',
      }) + '\n',
    );
    const [l] = run(['--input', file]).lines;
    assert.equal(l!.rib.status, 'uncertain');
    assert.equal(l!.rib.cue, 'hedge');
    assert.deepEqual(
      l!.rib.reasons.map((x: { section: string; status: string; decided: boolean }) => [
        x.section,
        x.status,
        x.decided,
      ]),
      [
        ['findings', 'positive', false],
        ['impression', 'uncertain', true],
      ],
    );
    assert.deepEqual(Object.keys(l!.clavicle), [
      'status',
      'acuity',
      'side',
      'ribs',
      'evidence',
      'cue',
      'reasons',
    ]);
  });

  it('writes the same lines from its bundled fast entry, through tsx and on two threads', () => {
    const file = join(dir, 'many.csv');
    const rows = Array.from({ length: 6000 }, (_, i) =>
      i % 7 === 0
        ? `${i},,,"Old left ${1 + (i % 12)}th rib fracture, no pneumothorax.",Healed.`
        : `${i},Cough,,Lungs clear.,Normal.`,
    );
    writeFileSync(file, ['uid,indication,comparison,findings,impression', ...rows, ''].join('\n'));
    const bundled = run(['--input', file]);
    const tsx = run(['--input', file], { HARVESTER_NO_BUNDLE: '1' });
    const threads = run(['--input', file, '--threads', '2']);
    assert.equal(bundled.code, 0, bundled.stderr);
    assert.equal(bundled.lines.length, 6000);
    assert.deepEqual(tsx.lines, bundled.lines);
    assert.deepEqual(threads.lines, bundled.lines);
  });

  it('writes the same bytes to a file as to a pipe (odd ids, quoted fields, a finding word in the uid)', () => {
    const file = join(dir, 'odd.csv');
    const ids = ['plain', 'quo""te', 'back\\slash', 'ünï', 'fracture-7', '😀'];
    const rows = Array.from({ length: 3000 }, (_, i) => {
      const id = `"${ids[i % ids.length]}${i}"`;
      return i % 9 === 0
        ? `${id},"Fall, r/o rib fx",,"Healed left 6th rib ""fracture"",
no pneumothorax.",Old rib fx.`
        : `${id},Cough,,"Lungs clear, no effusion.",Normal.`;
    });
    writeFileSync(file, ['uid,indication,comparison,findings,impression', ...rows, ''].join('\r\n'));
    const piped = spawnSync(process.execPath, [CLI, 'label-reports', '--input', file], {
      maxBuffer: 1 << 28,
    });
    const out = join(dir, 'odd.jsonl');
    const fd = openSync(out, 'w');
    const toFile = spawnSync(process.execPath, [CLI, 'label-reports', '--input', file], {
      stdio: ['ignore', fd, 'pipe'],
    });
    closeSync(fd);
    assert.equal(piped.status, 0, piped.stderr.toString());
    assert.equal(toFile.status, 0, toFile.stderr.toString());
    assert.equal(piped.stdout.toString().split('\n').length, 3001);
    assert.ok(readFileSync(out).equals(piped.stdout));
  });
});
