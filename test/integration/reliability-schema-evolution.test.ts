import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import {
  loadEventSchema,
  valueSubject,
  type AvroRecordSchema,
} from '../../services/shared/events/catalog.ts';
import {
  dicomArrivedFor,
  PseudoLabelerHarness,
  removeCohort,
  reportLabelFor,
  writeTestCohort,
  type TestCohort,
} from '../support/pseudo-labeler.ts';
import { waitFor } from '../support/report-labeler.ts';

// Schema evolution on the real registry (BACKWARD): DicomArrived gains an optional field, producers
// move to it, and the consumer built against the old schema reads the new events; changes that
// would break readers of old data are refused by the registry.

const v1 = loadEventSchema('DicomArrived');
/** v2: a new optional field with a default, the one kind of addition BACKWARD allows. */
const v2: AvroRecordSchema = {
  ...v1,
  fields: [
    ...v1.fields,
    {
      name: 'institutionName',
      type: ['null', 'string'],
      default: null,
      doc: '(0008,0080), added in v2',
    },
  ],
};

describe('reliability: schema evolution (DicomArrived, BACKWARD)', { timeout: 300_000 }, () => {
  const h = new PseudoLabelerHarness();
  let cohort: TestCohort;
  before(async () => {
    cohort = await writeTestCohort(1, 'reliability-schema');
    await h.setUp();
  });
  after(async () => {
    await h.tearDown();
    await removeCohort(cohort);
  });

  const subject = () => valueSubject(h.dicomTopic);
  const register = (schema: object) =>
    h.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: subject(), compatibility: COMPATIBILITY.BACKWARD },
    );

  it('a v2 event with a new optional field is read by the unchanged pseudo-labeler', async () => {
    const { id: v2Id } = await register(v2);
    const v1Id = await h.registry.getRegistryIdBySchema(subject(), {
      type: SchemaType.AVRO,
      schema: JSON.stringify(v1),
    });
    assert.notEqual(v2Id, v1Id, 'v2 is a new version of the subject');

    const image = cohort.images[0]!;
    const event = { ...dicomArrivedFor(cohort.dir, image), institutionName: 'GENERAL HOSPITAL' };
    const value = await h.registry.encode(v2Id, event);
    assert.equal(value.readInt32BE(1), v2Id, 'written with the v2 schema id');

    // the old code's own reader schema resolves v2 data (the field it does not know is skipped)
    const reader = avro.Type.forSchema(v1 as avro.Schema);
    const writer = avro.Type.forSchema(v2 as avro.Schema);
    const decoded = reader.fromBuffer(value.subarray(5), reader.createResolver(writer)) as Record<
      string,
      unknown
    >;
    assert.equal(decoded.sopInstanceUid, event.sopInstanceUid);
    assert.equal('institutionName' in decoded, false);

    const service = await h.start();
    await h.send(h.dicomTopic, [{ key: event.accession, value }]);
    await h.produceLabels([reportLabelFor(event.accession, { rib: 'positive', clavicle: 'negative' })]);
    await waitFor(
      'the v2 image pseudo-labelled',
      async () =>
        (await h.count('SELECT count(*) FROM pseudo_labels WHERE sop_instance_uid = $1', [
          event.sopInstanceUid,
        ])) === 2,
      120_000,
    );
    assert.equal(h.deadLetters.length, 0, 'nothing dead-lettered');
    await service.stop();
  });

  it('refuses a new required field without a default (old events could not be read)', async () => {
    const bad = { ...v1, fields: [...v1.fields, { name: 'institutionName', type: 'string' }] };
    await assert.rejects(register(bad), (err: Error & { status?: number }) => {
      assert.equal(err.status, 409, err.message);
      return true;
    });
  });

  it('refuses a changed field type (rows: int to string)', async () => {
    const bad = {
      ...v1,
      fields: v1.fields.map((f) => (f.name === 'rows' ? { ...f, type: 'string' } : f)),
    };
    await assert.rejects(register(bad), (err: Error & { status?: number }) => {
      assert.equal(err.status, 409, err.message);
      return true;
    });
  });

  it('refuses a renamed field without an alias (accession to accessionNumber)', async () => {
    const bad = {
      ...v1,
      fields: v1.fields.map((f) => (f.name === 'accession' ? { ...f, name: 'accessionNumber' } : f)),
    };
    await assert.rejects(register(bad), (err: Error & { status?: number }) => {
      assert.equal(err.status, 409, err.message);
      return true;
    });
  });
});
