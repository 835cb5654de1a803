/**
 * HL7 extraction speed: generated ORU^R01 messages (v2.5.1, 2 OBX text segments with escapes,
 * Open-i-sized report text) split from one file buffer and parsed; messages per second, one thread.
 *   npm run bench:hl7 [-- --messages N]
 */
import { parseArgs } from 'node:util';
import { parseOruMessage, splitHl7Messages } from '../services/shared/hl7/index.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '5000' } } });
const count = Number(values.messages);

const sentences = [
  'The cardiomediastinal silhouette is within normal limits.',
  'No focal consolidation, pleural effusion, or pneumothorax.',
  'Old healed left 5th and 6th rib fractures.',
  'Degenerative changes of the thoracic spine.',
  'No displaced rib fractures.',
  'Lungs are clear.',
];
function message(i: number): string {
  const f = sentences
    .slice(0, 3 + (i % 4))
    .join(' ')
    .replace(/,/g, '\\F\\');
  return [
    `MSH|^~\\&|RIS|GENHOSP^2.16.840.1^ISO|EHR|GENHOSP|20240301101500||ORU^R01^ORU_R01|C${i}|P|2.5.1`,
    `PID|1||MRN${100000 + i}^^^GENHOSP^MR||DOE^JANE||19600101|F`,
    `OBR|1|PL${i}|ACC${i}|71046^XR CHEST 2 VIEWS^CPT|||20240301093000|||||||||||||||20240301100000||CR|F`,
    `OBX|1|FT|18782-3^Findings^LN||FINDINGS: ${f}\\.br\\Second line.||||||F`,
    `OBX|2|TX|19005-8^Impression^LN||IMPRESSION: No acute cardiopulmonary abnormality.~Signed.||||||F`,
  ].join('\r');
}
const file = Buffer.from(Array.from({ length: count }, (_, i) => message(i)).join('\n'), 'utf8');

let sink = 0;
function run(): number {
  let n = 0;
  for (const m of splitHl7Messages(file)) {
    sink += parseOruMessage(m.message)[0]!.text.length;
    n++;
  }
  return n;
}
run(); // warm-up
const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  const t0 = process.hrtime.bigint();
  const n = run();
  rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}
rates.sort((a, b) => a - b);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(
  `HL7 ORU extraction (split + parse): ${count} messages, ${(file.length / count).toFixed(0)} bytes each, 5 rounds, one thread`,
);
console.log(`messages/s: median ${fmt(rates[2]!)}, best ${fmt(rates[4]!)}, worst ${fmt(rates[0]!)}`);
if (sink < 0) console.log(sink);
