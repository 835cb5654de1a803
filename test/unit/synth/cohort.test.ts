import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCohort } from '../../../tools/synth/write-cohort.ts';
import {
  CohortPlanner,
  DEFAULT_COHORT_OPTIONS,
  CohortOptionError,
  type CohortOptions,
} from '../../../tools/synth/cohort.ts';
import { parseOruMessage, splitHl7Messages } from '../../../services/shared/hl7/index.ts';
import { labelReport } from '../../../services/shared/report-rules/index.ts';
import { escapeHl7 } from '../../../tools/synth/hl7-writer.ts';

const opts = (o: Partial<CohortOptions>): CohortOptions => ({
  ...DEFAULT_COHORT_OPTIONS,
  studies: 100,
  seed: '1',
  ...o,
});

test('plans: prevalence is low by default, region splits are exact and enriched, one image each', () => {
  const p = new CohortPlanner(opts({ studies: 6000, regionTrain: 200, regionTest: 150 }));
  let rib = 0;
  let clav = 0;
  let record = 0;
  const region = { 'region-train': 0, 'region-test': 0 };
  let regionPos = 0;
  const accessions = new Set<string>();
  const uids = new Set<string>();
  for (let i = 0; i < 6000; i++) {
    const s = p.study(i);
    accessions.add(s.accession);
    for (const im of s.images) uids.add(im.sopInstanceUid);
    if (s.split === 'record') {
      record++;
      if (s.fractures.some((f) => f.class === 'rib')) rib++;
      if (s.fractures.some((f) => f.class === 'clavicle')) clav++;
    } else {
      region[s.split]++;
      assert.equal(s.images.length, 1);
      if (s.fractures.length > 0) regionPos++;
    }
  }
  assert.deepEqual(region, { 'region-train': 200, 'region-test': 150 });
  assert.equal(accessions.size, 6000, 'accession numbers are unique');
  assert.ok(uids.size >= 6000, 'SOP instance UIDs are unique');
  assert.ok(Math.abs(rib / record - 0.04) < 0.012, `rib prevalence ${rib / record}`);
  assert.ok(Math.abs(clav / record - 0.015) < 0.007, `clavicle prevalence ${clav / record}`);
  assert.ok(regionPos / 350 > 0.3, `region sets are enriched: ${regionPos}/350 positive`);
});

test('the final report label follows the truth except for misses and hedges; corrections change a label', () => {
  const p = new CohortPlanner(
    opts({
      studies: 5000,
      ribPrevalence: 0.3,
      missRate: 0.1,
      hedgeRate: 0.1,
      correctionRate: 0.05,
      regionTrain: 0,
      regionTest: 0,
    }),
  );
  let present = 0;
  let missed = 0;
  let hedged = 0;
  let corrections = 0;
  for (let i = 0; i < 5000; i++) {
    const s = p.study(i);
    const final = s.reports[s.reports.length - 1]!;
    const statuses = s.reports.map((r) => r.status).join('');
    assert.match(statuses, /^P?FC?$/);
    for (let k = 1; k < s.reports.length; k++) assert.ok(s.reports[k]!.time > s.reports[k - 1]!.time);
    if (statuses.endsWith('C')) {
      corrections++;
      const f = s.reports[s.reports.length - 2]!;
      assert.notDeepEqual(f.intended, final.intended, 'a correction changes what the record says');
    }
    if (s.fractures.some((f) => f.class === 'rib')) {
      present++;
      if (final.intended.rib === 'negative') missed++;
      if (final.intended.rib === 'uncertain') hedged++;
    }
  }
  assert.ok(Math.abs(missed / present - 0.1) < 0.03, `miss rate ${missed / present}`);
  assert.ok(hedged / present > 0.05 && hedged / present < 0.14, `hedged ${hedged / present}`);
  assert.ok(corrections > 150 && corrections < 350, `corrections ${corrections}`);
});

test('bad options are refused with a clear, expected error', () => {
  assert.throws(
    () => new CohortPlanner(opts({ studies: 10, regionTrain: 8, regionTest: 8 })),
    CohortOptionError,
  );
  assert.throws(() => new CohortPlanner(opts({ ribPrevalence: 1.5 })), /ribPrevalence must be a fraction/);
  assert.throws(() => new CohortPlanner(opts({ studies: 0 })), /--studies/);
});

test('HL7 escapes round-trip through the project parser', () => {
  const text = 'Heart & mediastinum | normal ^ ok ~ done \\ end';
  const esc = escapeHl7(text);
  assert.equal(esc.includes('&') || esc.includes('|') || esc.includes('^') || esc.includes('~'), false);
  const msg = `MSH|^~\\&|RIS|H|A|B|20200101000000||ORU^R01^ORU_R01|X1|P|2.5.1\rPID|1||M1^^^H^MR\rOBR|1|P1|ACC1|71045^XR CHEST 1 VIEW^CPT|||20200101000000||||||||||||||||||F\rOBX|1|TX|71045^XR^CPT|1|${esc}||||||F\r`;
  assert.equal(parseOruMessage(msg)[0]!.text, text);
});

test('a written cohort: HL7 parses with the project extractor, matches reports.jsonl, and the rule engine recovers >= 99% of intended labels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-hl7-'));
  try {
    await writeCohort(
      dir,
      opts({
        studies: 400,
        size: 128,
        seed: '11',
        ribPrevalence: 0.25,
        claviclePrevalence: 0.1,
        otherPrevalence: 0.05,
        prelimRate: 0.3,
        correctionRate: 0.05,
        regionTrain: 20,
        regionTest: 20,
      }),
    );
    const lines = readFileSync(join(dir, 'reports.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            accession: string;
            status: string;
            text: string;
            time: string;
            intended: Record<'rib' | 'clavicle' | 'other', string>;
          },
      );
    const messages = splitHl7Messages(readFileSync(join(dir, 'reports.hl7')));
    assert.equal(messages.length, lines.length);
    let agree = 0;
    const disagreements: string[] = [];
    let lastTime = '';
    messages.forEach((m, i) => {
      const line = lines[i]!;
      assert.ok(line.time >= lastTime, 'reports are in publication order');
      lastTime = line.time;
      const [report] = parseOruMessage(m.message);
      assert.ok(report);
      assert.equal(report.accession, line.accession);
      assert.equal(report.resultStatus, line.status);
      assert.equal(report.text, line.text);
      const got = labelReport(report.text);
      if (
        got.rib.status === line.intended.rib &&
        got.clavicle.status === line.intended.clavicle &&
        got.other.status === line.intended.other
      )
        agree++;
      else
        disagreements.push(
          `${JSON.stringify(line.intended)} vs rib=${got.rib.status} clavicle=${got.clavicle.status} other=${got.other.status}: ${report.text}`,
        );
    });
    assert.ok(
      agree / messages.length >= 0.99,
      `agreement ${agree}/${messages.length}\n${disagreements.slice(0, 10).join('\n')}`,
    );

    // manifest reportLabel = the last version of the study's report.
    const last = new Map<string, Record<string, string>>();
    for (const l of lines) last.set(l.accession, l.intended);
    const manifest = readFileSync(join(dir, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const m of manifest) {
      const want = last.get(m.accession)!;
      assert.deepEqual(m.reportLabel, { rib: want.rib, clavicle: want.clavicle });
    }
    // Expert boxes exist only for region images and cover all their true fractures.
    const ann = JSON.parse(readFileSync(join(dir, 'annotations.json'), 'utf8')) as {
      sopInstanceUid: string;
      split: string;
    }[];
    const regionTruth = manifest
      .filter((m) => m.split !== 'record')
      .reduce((n, m) => n + m.fractures.length, 0);
    assert.equal(ann.length, regionTruth);
    const coco = JSON.parse(readFileSync(join(dir, 'annotations.coco.json'), 'utf8'));
    assert.equal(coco.images.length, 40);
    assert.equal(coco.annotations.length, ann.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
