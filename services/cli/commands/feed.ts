/**
 * `harvester feed --dir DIR`: publishes a cohort to Kafka as a hospital would: raw HL7 ORU
 * messages to hl7.oru.raw (key MSH-4|MSH-10) and DicomArrived events to dicom.arrived (key
 * accession, uri = the file in DIR, which stays where it is), in the order planFeed chooses.
 */
import { SingleBar, Presets } from 'cli-progress';
import { feedCohort, type FeedCliOptions, type FeedSummary } from '../../app/feed-cohort.ts';

export async function feedCommand(opts: FeedCliOptions): Promise<void> {
  const show = opts.progress !== false;
  const bar = new SingleBar(
    {
      format:
        'feed |{bar}| {value}/{total} msgs | {speed} msgs/s | hl7 {hl7} dicom {dicom} | eta {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for the batch
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  let t0 = performance.now();
  let summary: FeedSummary;
  try {
    summary = await feedCohort(opts, {
      signal: stop.signal,
      onPlanned: (total) => {
        t0 = performance.now(); // publishing starts now: reading and connecting are not in the rate
        if (show) bar.start(total, Number(opts.startAt ?? 0), { speed: '0', hl7: 0, dicom: 0 });
      },
      onProgress: (p) =>
        show &&
        bar.update(p.position, {
          speed: ((p.sent.hl7 + p.sent.dicom) / ((performance.now() - t0) / 1000)).toFixed(0),
          hl7: p.sent.hl7,
          dicom: p.sent.dicom,
        }),
    });
  } finally {
    if (show) bar.stop();
    process.off('SIGINT', onSigint);
  }
  const { sent, duplicates, topics } = summary;
  const total = sent.hl7 + sent.dicom;
  console.log(
    `${summary.interrupted ? 'interrupted: ' : ''}fed ${total} message(s) from ${opts.dir} in ${summary.seconds.toFixed(1)} s ` +
      `(${(total / Math.max(summary.seconds, 1e-9)).toFixed(0)} msgs/s): ` +
      `${topics.hl7} ${sent.hl7} (${duplicates.hl7} duplicate), ${topics.dicom} ${sent.dicom} (${duplicates.dicom} duplicate)`,
  );
  if (summary.interrupted) {
    console.log(
      `stopped at plan position ${summary.position} of ${summary.total}; ` +
        `continue with the same --seed, --duplicate-rate and --late-image-rate and --start-at ${summary.position}`,
    );
    process.exitCode = 130;
  }
}
