import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import avro from 'avsc';
import {
  EVENTS,
  loadEventSchema,
  SCHEMAS_DIR,
  valueSubject,
} from '../../../services/shared/events/catalog.ts';

describe('event schemas', () => {
  it('has one .avsc per DESIGN.md event and nothing else', () => {
    const files = readdirSync(SCHEMAS_DIR)
      .filter((f) => f.endsWith('.avsc'))
      .sort();
    assert.deepEqual(files, EVENTS.map((e) => e.file).sort());
    assert.deepEqual(EVENTS.map((e) => e.name).sort(), [
      'DicomArrived',
      'DistillJobRequested',
      'ModelReleased',
      'PseudoLabelCreated',
      'ReportLabel',
    ]);
  });

  for (const event of EVENTS) {
    it(`${event.name} parses with avsc on its own (no references) in the events namespace`, () => {
      const schema = loadEventSchema(event.name);
      assert.equal(schema.namespace, 'org.fractureharvester.events');
      assert.equal(schema.name, event.name);
      // a fresh registry: any reference to a type defined elsewhere would fail here
      const type = avro.Type.forSchema(schema as avro.Schema, { registry: {} });
      assert.equal(type.name, `org.fractureharvester.events.${event.name}`);
    });
  }

  it('DicomArrived carries the fields DESIGN.md lists', () => {
    const fields = loadEventSchema('DicomArrived').fields.map((f) => f.name);
    for (const name of [
      'studyInstanceUid',
      'seriesInstanceUid',
      'sopInstanceUid',
      'accession',
      'modality',
      'viewPosition',
      'bodyPartExamined',
      'rows',
      'columns',
      'pixelSpacing',
      'photometricInterpretation',
      'transferSyntaxUid',
      'uri',
    ]) {
      assert.ok(fields.includes(name), `DicomArrived lacks ${name}`);
    }
  });

  it('ReportLabel round-trips a typical event', () => {
    const type = avro.Type.forSchema(loadEventSchema('ReportLabel') as avro.Schema);
    const label = { status: 'positive', acuity: 'acute', side: 'left', ribs: [6], cue: null };
    const event = {
      accession: 'ACC1',
      sendingFacility: 'GENHOSP',
      messageControlId: 'M1',
      obrIndex: 0,
      reportStatus: 'F',
      provisional: false,
      observedAt: Date.UTC(2024, 0, 5),
      patientPseudonym: 'ab'.repeat(32),
      procedureCode: '71046',
      ruleVersion: 'rules-1',
      rib: label,
      clavicle: { status: 'uncertain', acuity: 'old', side: 'right', ribs: [], cue: 'hedge' },
      other: { status: 'negative', acuity: null, side: null, ribs: [], cue: 'negation' },
      labelledAt: Date.UTC(2024, 0, 6),
      reportedAt: Date.UTC(2024, 0, 5, 12),
    };
    assert.deepEqual(JSON.parse(JSON.stringify(type.fromBuffer(type.toBuffer(event)))), event);
  });

  it('ReportLabel stays BACKWARD compatible: it reads events written before reportedAt and cue existed', () => {
    const current = loadEventSchema('ReportLabel');
    // The schema as first registered: no reportedAt, class labels without cue.
    const before = JSON.parse(JSON.stringify(current)) as typeof current;
    before.fields = before.fields.filter((f) => f.name !== 'reportedAt');
    const cls = before.fields.find((f) => f.name === 'rib')!.type as { fields: Array<{ name: string }> };
    cls.fields = cls.fields.filter((f) => f.name !== 'cue');
    const reader = avro.Type.forSchema(current as avro.Schema);
    const writer = avro.Type.forSchema(before as avro.Schema);
    const label = { status: 'negative', acuity: null, side: null, ribs: [] };
    const old = {
      accession: 'ACC1',
      sendingFacility: 'GENHOSP',
      messageControlId: 'M1',
      obrIndex: 0,
      reportStatus: 'C',
      provisional: false,
      observedAt: 1,
      patientPseudonym: 'p',
      procedureCode: null,
      ruleVersion: 'r',
      rib: label,
      clavicle: label,
      other: label,
      labelledAt: 2,
    };
    const read = reader.fromBuffer(writer.toBuffer(old), reader.createResolver(writer));
    assert.equal(read.reportedAt, null);
    assert.equal(read.reportStatus, 'C');
    assert.equal(read.rib.cue, null);
  });

  it('uses <topic>-value subjects', () => {
    assert.equal(valueSubject('labels.report'), 'labels.report-value');
  });
});
