import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's schemas/ folder: one self-contained .avsc per event (no schema references). */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas', import.meta.url));

export type EventName =
  'DicomArrived' | 'ReportLabel' | 'PseudoLabelCreated' | 'DistillJobRequested' | 'ModelReleased';

export interface EventDefinition {
  name: EventName;
  /** The topic that carries it (DESIGN.md). */
  topic: string;
  /** The .avsc file under schemas/. */
  file: string;
}

/** Every Avro event of DESIGN.md and its topic. */
export const EVENTS: readonly EventDefinition[] = [
  { name: 'DicomArrived', topic: 'dicom.arrived', file: 'DicomArrived.avsc' },
  { name: 'ReportLabel', topic: 'labels.report', file: 'ReportLabel.avsc' },
  { name: 'PseudoLabelCreated', topic: 'labels.pseudo', file: 'PseudoLabelCreated.avsc' },
  { name: 'DistillJobRequested', topic: 'distill.jobs', file: 'DistillJobRequested.avsc' },
  { name: 'ModelReleased', topic: 'models.released', file: 'ModelReleased.avsc' },
];

/**
 * Subject naming: Confluent's TopicNameStrategy, `<topic>-value`, the convention hospital Kafka
 * teams know and the one their tooling (Connect, ksqlDB, kcat -s) assumes. One event type per topic.
 */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: Array<{ name: string; type: unknown; default?: unknown; doc?: string }>;
}

export function eventDefinition(name: EventName): EventDefinition {
  const found = EVENTS.find((e) => e.name === name);
  if (!found) throw new Error(`unknown event ${name}`);
  return found;
}

/** Reads an event's schema from schemas/ as parsed JSON. */
export function loadEventSchema(name: EventName, dir: string = SCHEMAS_DIR): AvroRecordSchema {
  const def = eventDefinition(name);
  return JSON.parse(readFileSync(`${dir}/${def.file}`, 'utf8')) as AvroRecordSchema;
}
