import type { Command } from 'commander';
import { registerLabelReports } from './label-reports-command.ts';

/**
 * Every subcommand registers itself here; each lives in its own file under commands/ and is
 * imported lazily inside its action, so `harvester --help` starts fast.
 */
export function registerCommands(program: Command): void {
  program
    .command('aals')
    .description(
      "Sharpen a teacher's probability map into a student target (AALS, PAPER.md) and summarise it",
    )
    .option(
      '--input <file>',
      'probability map: raw little-endian float32 (.f32) or JSON (array, or {"values": [...]})',
    )
    .option(
      '--method <name>',
      'aals | asymmetric (t=0.4, fixed a) | symmetric (t=0.5, fixed a) | none',
      'aals',
    )
    .option('--t <number>', 'AALS sharpening centre t in (0, 1); values above t are pushed up (default 0.4)')
    .option('--a0 <number>', 'AALS maximum strength a0 >= 1, used when the map maximum is 0 (default 4)')
    .option('--a <number>', 'fixed strength a >= 1 for symmetric/asymmetric (default 4)')
    .option('--eps <number>', 'y is clamped into [eps, 1 - eps] before logit; eps in (0, 0.5) (default 1e-6)')
    .option('--output <file>', 'also write the target map (.f32 raw float32, otherwise JSON)')
    .option('--values', 'print every target value, not only the summary')
    .addHelpText(
      'after',
      [
        '',
        'With y the teacher probability at a pixel and y_max the maximum of the map:',
        '  S(y)   = expit(a * logit(y) + (1 - a) * logit(t))',
        '  a      = a0 - (a0 - 1) * y_max   (adaptive: strong when the teacher is unsure)',
        '  target = max(S(y), y)            (never lowers the teacher)',
        'Record-negative images get all-zero targets; this command sharpens one record-positive map.',
        'Library: sharpenAALS(map, { t, a0, eps }) from the package main entry.',
        '',
        'Example: harvester aals --input map.json --a0 4 --t 0.4',
      ].join('\n'),
    )
    .action(async (opts) => (await import('./aals.ts')).aalsCommand(opts));
  program
    .command('prepare')
    .description(
      'Turn a cohort directory into model inputs: prepared/meta.json, images.u8, index.jsonl (docs/data-contracts.md)',
    )
    .requiredOption('--cohort <dir>', 'cohort directory with manifest.jsonl, annotations.json and dicom/')
    .option('--out <dir>', 'output directory (default: <cohort>/prepared)')
    .option('--size <pixels>', 'model input size (square)', '256')
    .action(async (opts) => (await import('../../app/prepare-cohort.ts')).prepareCohort(opts));
  program
    .command('distill')
    .description(
      'Train, evaluate and export the detector (Python + PyTorch): distill supervised|distill|evaluate|export ... ' +
        "(`harvester distill --help` for the distiller's own help)",
    )
    .argument('[args...]', 'arguments for `python -m distiller`')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => (await import('./distill.ts')).distillCommand(args));
  program
    .command('migrate')
    .description('Apply the database migrations (migrations/*.sql, node-pg-migrate) to DATABASE_URL')
    .option('--database <url>', 'postgres:// connection string (default: DATABASE_URL)')
    .option(
      '--schema <name>',
      "schema to create the tables in (default: the first of the connection's search_path, else public)",
    )
    .option('--down', 'revert instead of apply (one migration unless --count)')
    .option('--count <n>', 'how many migrations to apply or revert')
    .action(async (opts) => (await import('./migrate.ts')).migrateCommand(opts));
  program
    .command('relabel')
    .description(
      'Re-derive earlier pseudo-labels with another teacher from model_versions (pseudo-labeler environment)',
    )
    .requiredOption('--model <version>', 'model_versions.version of the teacher to label with')
    .option('--since <date>', 'only studies with images arrived since this date (ISO 8601)')
    .option('--batch-studies <n>', 'studies per processing batch', '50')
    .action(async (opts) => (await import('./relabel.ts')).relabelCommand(opts));
  program
    .command('forget')
    .description(
      'Erase one patient on request: their reports, labels, images rows, pseudo-labels and training-store inputs ' +
        '(shards rewritten without them); later arrivals for them are dropped; prints the erasure record (counts, ' +
        'never the id) and the models already trained on the data (docs/erasure.md). Environment: DATABASE_URL, ' +
        'TRAINING_STORE_URL, PATIENT_ID_HMAC_KEY (for --patient-id)',
    )
    .option('--patient-id <id>', 'the patient id (PID-3), pseudonymised with PATIENT_ID_HMAC_KEY')
    .option('--accession <acc>', 'an accession number: erases the patient it belongs to (or the study alone)')
    .action(async (opts) => (await import('./forget.ts')).forgetCommand(opts));
  program
    .command('up')
    .description(
      'The whole streaming system on this machine: the local stack, migrations, event schemas and topics, the HL7 and ' +
        'DICOM gateways and the four services under one supervisor (logs in var/up/logs, a crashed service restarted with back-off), optionally a ' +
        'synthetic hospital fed through Kafka with its expert annotations imported; live progress until Ctrl-C, which ' +
        'stops everything it started',
    )
    .option(
      '--feed <source>',
      'synthetic: generate a hospital (harvester synth), import its annotations and feed it',
    )
    .option('--studies <n>', 'studies of the synthetic hospital (10% + 10% of them expert-annotated)', '600')
    .option('--seed <s>', 'seed of the synthetic hospital and its feed order', '1')
    .option('--rate <msgs/s>', 'feed rate; 0 = as fast as possible', '0')
    .option(
      '--until <event>',
      'stop by itself once: fed | labelled | first-decision (default: run until Ctrl-C)',
    )
    .option('--keep-stack', 'leave Kafka, the registry and Postgres running at the end')
    .option('--dir <dir>', 'logs, the generated pseudonymisation key and the synthetic hospital', 'var/up')
    .action(async (opts) => (await import('./up.ts')).upCommand(opts));
  const topics = program.command('topics').description('Kafka topics of the system (DESIGN.md)');
  topics
    .command('ensure')
    .description(
      'Create every topic of the system that is missing (inputs, outputs, dead-letter topics) with the configured ' +
        'partitions and replication, and list them all; existing topics are left as they are. Names follow ' +
        "KAFKA_TOPIC_PREFIX and the services' topic variables",
    )
    .option('--check', 'create nothing: list, and exit 1 when a topic is missing')
    .option('--brokers <list>', 'bootstrap brokers (default: KAFKA_BROKERS)')
    .option('--partitions <n>', 'partitions of data topics (default: KAFKA_TOPIC_PARTITIONS or 6)')
    .option(
      '--replication-factor <n>',
      'replication factor (default: KAFKA_TOPIC_REPLICATION_FACTOR or the broker default)',
    )
    .option('--prefix <prefix>', 'topic name prefix (default: KAFKA_TOPIC_PREFIX)')
    .option(
      '--acls',
      'also write the ACLs of each service principal (services/shared/kafka/topic-access.ts): run as a Kafka super user',
    )
    .action(async (opts) => (await import('./topics.ts')).topicsEnsureCommand(opts));
  const schemas = program.command('schemas').description('Avro event schemas (schemas/*.avsc)');
  schemas
    .command('register')
    .description('Register every event schema as <topic>-value with BACKWARD compatibility')
    .option('--registry <url>', 'Confluent-compatible registry URL (default: SCHEMA_REGISTRY_URL)')
    .action(async (opts) => (await import('./schemas-register.ts')).schemasRegisterCommand(opts));
  const run = program.command('run').description('Run a service until SIGTERM');
  run
    .command('report-labeler')
    .description(
      'HL7 ORU reports from hl7.oru.raw to report_labels in Postgres and ReportLabel events on labels.report ' +
        '(config from the environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, PATIENT_ID_HMAC_KEY, ...)',
    )
    .action(async () => (await import('./run-report-labeler.ts')).runReportLabelerCommand());
  run
    .command('pseudo-labeler')
    .description(
      'DICOM arrivals (dicom.arrived) joined with report labels (labels.report) in Postgres; teacher (ONNX) + AALS ' +
        'into pseudo_labels and PseudoLabelCreated events on labels.pseudo (config from the environment: ' +
        'KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, TEACHER_MODEL_PATH, TEACHER_EXECUTION_PROVIDERS, ...)',
    )
    .action(async () => (await import('./run-pseudo-labeler.ts')).runPseudoLabelerCommand());
  run
    .command('hl7-gateway')
    .description(
      'HL7 v2 over MLLP (from a RIS or interface engine) to hl7.oru.raw: each message is published (key MSH-4|MSH-10, ' +
        'bytes unchanged) and answered AA only after Kafka acknowledged it; AR with an ERR for what cannot be accepted; ' +
        'no ACK when Kafka does not acknowledge, so the sender retries (config: KAFKA_BROKERS, HL7_GATEWAY_*)',
    )
    .action(async () => (await import('./run-hl7-gateway.ts')).runHl7GatewayCommand());
  run
    .command('dicom-gateway')
    .description(
      'DICOM C-STORE SCP (and C-ECHO) from a modality or PACS: each instance is stored durably in the image store, ' +
        'its DicomArrived published to dicom.arrived, then answered success; failures answer a failure status so the ' +
        'sender retries; non-image and non-chest objects are stored but not announced (config: KAFKA_BROKERS, ' +
        'SCHEMA_REGISTRY_URL, DICOM_GATEWAY_*)',
    )
    .action(async () => (await import('./run-dicom-gateway.ts')).runDicomGatewayCommand());
  run
    .command('distill-scheduler')
    .description(
      'Request a distillation (distill_jobs row + distill.jobs event) when new pseudo-labels per class pass DISTILL_MIN_NEW_LABELS; single-flight across replicas; retries or fails jobs whose lease expired',
    )
    .action(async () => (await import('./run-distill-loop.ts')).runDistillSchedulerCommand());
  run
    .command('distill-worker')
    .description(
      'Run requested distillations (DISTILL_RUNNER local: the Python distiller as a child; kubernetes: a Job), then gate the model on the held-out set and publish models.released on promotion',
    )
    .action(async () => (await import('./run-distill-loop.ts')).runDistillWorkerCommand());
  program
    .command('synth')
    .description(
      'Write a synthetic hospital cohort (chest radiographs as DICOM, HL7 ORU reports, manifest, expert boxes); ' +
        '`synth preview --dir DIR --out FILE.png` draws a contact sheet of it',
    )
    .argument(
      '[action]',
      'omit to write a cohort; "preview" for a PNG contact sheet (positives first, with boxes)',
    )
    .option('--out <path>', 'cohort directory to write (docs/data-contracts.md); for preview, the PNG file')
    .option('--studies <n>', 'number of studies')
    .option('--seed <s>', 'seed: the same seed and options give the same bytes', '1')
    .option('--size <px>', 'stored image size (square)', '512')
    .option('--rib-prevalence <p>', 'fraction of record studies with rib fractures', '0.04')
    .option('--clavicle-prevalence <p>', 'fraction of record studies with a clavicle fracture', '0.015')
    .option(
      '--miss-rate <p>',
      'probability that the final report misses a fracture present in the image',
      '0.08',
    )
    .option(
      '--hedge-rate <p>',
      'probability that a present fracture is reported with a hedge (uncertain)',
      '0.08',
    )
    .option('--region-train <n>', 'expert-boxed images for training (D_R), positives enriched', '200')
    .option('--region-test <n>', 'held-out expert-boxed images, positives enriched', '200')
    .option('--compressed-fraction <p>', 'fraction of images written as RLE Lossless', '0.1')
    .option('--force', 'write into a non-empty directory')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--dir <dir>', 'preview: the cohort directory to draw from')
    .option('--count <n>', 'preview: number of images', '12')
    .option('--columns <n>', 'preview: images per row', '4')
    .action(async (action: string | undefined, opts) =>
      (await import('./synth.ts')).synthCommand(action, opts),
    );
  registerLabelReports(program);
  const produce = program.command('produce').description('Publish input files to Kafka topics');
  produce
    .command('hl7')
    .description('Publish the HL7 messages of a file, key = MSH-4|MSH-10, bytes unchanged')
    .requiredOption('--input <file>', 'HL7 file (messages separated by newlines or MLLP framing)')
    .option(
      '--topic <name>',
      'topic (default: REPORT_LABELER_INPUT_TOPIC, or KAFKA_TOPIC_PREFIX + hl7.oru.raw)',
    )
    .option('--brokers <list>', 'bootstrap brokers (default: KAFKA_BROKERS)')
    .option('--batch-size <n>', 'messages per produce request', '500')
    .action(async (opts) => (await import('./produce-hl7.ts')).produceHl7Command(opts));
  program
    .command('feed')
    .description(
      'Publish a cohort (harvester synth) to Kafka as a hospital would: HL7 to hl7.oru.raw (key MSH-4|MSH-10), ' +
        'DicomArrived to dicom.arrived (key accession, uri = file:// in DIR), images mostly before their reports, ' +
        'P before F, late corrections, some duplicates; deterministic by --seed',
    )
    .requiredOption('--dir <dir>', 'cohort directory (manifest.jsonl, reports.hl7, reports.jsonl, dicom/)')
    .option('--rate <msgs/s>', 'messages per second over both topics; 0 = as fast as possible', '0')
    .option('--seed <s>', 'seed of the arrival order, delays and duplicates', '1')
    .option('--duplicate-rate <p>', 'probability that a message is delivered twice', '0.02')
    .option(
      '--late-image-rate <p>',
      "probability that a study's images arrive hours late, after its report",
      '0.05',
    )
    .option('--brokers <list>', 'bootstrap brokers (default: KAFKA_BROKERS)')
    .option('--registry <url>', 'Confluent-compatible schema registry (default: SCHEMA_REGISTRY_URL)')
    .option(
      '--hl7-topic <name>',
      'topic for the raw HL7 messages (default: REPORT_LABELER_INPUT_TOPIC, or KAFKA_TOPIC_PREFIX + hl7.oru.raw)',
    )
    .option(
      '--dicom-topic <name>',
      'topic for the DicomArrived events (default: PSEUDO_LABELER_DICOM_TOPIC, or KAFKA_TOPIC_PREFIX + dicom.arrived)',
    )
    .option(
      '--partitions <n>',
      'partitions of topics this command creates (default: KAFKA_TOPIC_PARTITIONS or 6; existing topics are kept)',
    )
    .option('--batch-size <n>', 'most messages per produce request', '500')
    .option('--start-at <n>', 'skip the first n messages of the plan (to continue an interrupted feed)', '0')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (opts) => (await import('./feed.ts')).feedCommand(opts));
  program
    .command('stats')
    .description(
      'Report-label counts and positive rates per month, facility or view position, by class ' +
        '(from the de-identified analytics views, as harvester_analytics, read-only)',
    )
    .option('--since <month>', 'from this month on: YYYY-MM (the views count whole UTC months)')
    .option('--by <dimension>', 'month | facility | view', 'month')
    .option('--format <format>', 'table | csv | json', 'table')
    .option('--database <url>', 'postgres:// connection string (default: DATABASE_URL)')
    .option('--schema <name>', 'schema holding the analytics views (default: the search_path)')
    .option(
      '--role <name>',
      'role to act as (SET ROLE); --no-role keeps the login user',
      'harvester_analytics',
    )
    .option('--no-role', "use the login user's own rights instead of harvester_analytics")
    .action(async (opts) => (await import('./stats.ts')).statsCommand(opts));
  const serve = program.command('serve').description('Serve a web page');
  serve
    .command('dashboard')
    .description(
      'Label analytics page (prevalence over time, label volume against the retraining threshold, model metrics, ' +
        'discordance list) from the de-identified views, read-only as harvester_analytics',
    )
    .option('--port <port>', 'TCP port', '8088')
    .option(
      '--host <address>',
      'address to listen on (loopback by default; anything else is reachable by others)',
      '127.0.0.1',
    )
    .option('--database <url>', 'postgres:// connection string (default: DATABASE_URL)')
    .option('--schema <name>', 'schema holding the analytics views (default: the search_path)')
    .option(
      '--role <name>',
      'role to act as (SET ROLE); --no-role keeps the login user',
      'harvester_analytics',
    )
    .option('--no-role', "use the login user's own rights instead of harvester_analytics")
    .option(
      '--retrain-threshold <labels>',
      'new pseudo-labels per class that trigger a distillation (default: DISTILL_LABEL_THRESHOLD or 1000)',
    )
    .action(async (opts) => (await import('./serve-dashboard.ts')).serveDashboardCommand(opts));
  program
    .command('backfill')
    .description(
      'Historical archive without Kafka: HL7 reports and DICOM files through the same labelling, imaging, teacher ' +
        'and AALS code as the services, into PostgreSQL (--database) or the embedded PGlite database; resumable ' +
        '(skips what is done), progress bar, summary (needs PATIENT_ID_HMAC_KEY; teacher settings as the pseudo-labeler)',
    )
    .requiredOption('--reports <path>', 'an HL7 file, or a folder searched recursively for *.hl7')
    .requiredOption('--dicom <dir>', 'a folder searched recursively for DICOM files (*.dcm or no extension)')
    .option(
      '--database <url>',
      'postgres:// server to write to (migrated first); default: the embedded database',
    )
    .option('--data-dir <dir>', 'embedded database folder', 'var/pglite')
    .option(
      '--store <url>',
      "training store for the labelled images' model inputs (default: TRAINING_STORE_URL or var/training-store)",
    )
    .option('--model <file>', 'teacher ONNX (default: TEACHER_MODEL_PATH or models/teacher/teacher.onnx)')
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (opts) => (await import('./backfill.ts')).backfillCommand(opts));
  program
    .command('demo')
    .description(
      'The whole method on a synthetic hospital, with no servers: cohort -> embedded PostgreSQL (PGlite) backfill ' +
        'with the default teacher and AALS pseudo-labels -> one distillation (when PyTorch is installed) -> ' +
        'a self-contained HTML report (prevalence, label counts, sample maps and targets, teacher and student metrics, SQL)',
    )
    .option('--studies <n>', 'studies in the synthetic hospital', '400')
    .option('--out <dir>', 'output folder (replaced on each run)', 'var/demo')
    .option('--epochs <n>', 'distillation epochs (0: no distillation)', '2')
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (opts) => (await import('./demo.ts')).demoCommand(opts));
  const annotations = program
    .command('annotations')
    .description('Expert boxes (the region-labelled set D_R)');
  annotations
    .command('import')
    .description(
      'Load expert boxes (and images reviewed as fracture-free) into region_annotations and region_annotated_images ' +
        '(PostgreSQL via --database, or the embedded database): each row checked (image known, box inside it, class ' +
        'rib|clavicle, one split per image); bad rows on stderr with their place in the file, good rows kept in one ' +
        "transaction; then each reviewed image's model input into the training store. Importing again adds nothing. " +
        'Exit status 2 when rows were rejected',
    )
    .requiredOption('--input <file>', 'annotations.json or annotations.coco.json (docs/data-contracts.md)')
    .option('--format <format>', 'coco | json (default: from the file: an array is json, an object coco)')
    .option(
      '--split <split>',
      'region-train | region-test for rows that do not state one (default: from the file; a row stating the other is rejected)',
    )
    .option(
      '--database <url>',
      'postgres:// server to write to (migrated first); default: the embedded database',
    )
    .option('--data-dir <dir>', 'embedded database folder', 'var/pglite')
    .option(
      '--images-from <dir>',
      'cohort directory (or its manifest.jsonl): size and DICOM file of images not yet in the images table',
    )
    .option(
      '--store <url>',
      "training store for the reviewed images' model inputs (default: TRAINING_STORE_URL or var/training-store)",
    )
    .option(
      '--size <px>',
      "model input side of the stored inputs: the teacher's (default: TEACHER_INPUT_SIZE or 256)",
    )
    .action(async (opts) => (await import('./annotations-import.ts')).annotationsImportCommand(opts));
}
