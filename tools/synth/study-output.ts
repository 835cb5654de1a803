/**
 * Everything one planned study produces: DICOM files, manifest lines, HL7 messages, report
 * lines and expert boxes. Pure (bytes in memory); the CLI streams them to disk.
 */
import type { ReportStatus } from '../../services/shared/vocabulary.ts';
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import { renderChestImage, drawAnatomy, type TruthFracture } from './chest-image.ts';
import type { StudyPlan, Split } from './cohort.ts';
import { writeDicomFile } from './dicom-writer.ts';
import { buildOruMessage } from './hl7-writer.ts';
import { drawPixelStorage, toStoredPixels } from './pixel-encoding.ts';
import { Rng } from './prng.ts';
import { writeReportLines } from './report-text.ts';

export interface ManifestLine {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  accession: string;
  patientId: string;
  viewPosition: 'PA' | 'AP';
  file: string;
  rows: number;
  columns: number;
  modality: 'CR' | 'DX';
  photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2';
  transferSyntaxUid: string;
  fractures: TruthFracture[];
  reportLabel: { rib: LabelStatus; clavicle: LabelStatus };
  split: Split;
}

export interface ReportLine {
  accession: string;
  status: ReportStatus;
  time: string;
  messageControlId: string;
  text: string;
  intended: { rib: LabelStatus; clavicle: LabelStatus; other: LabelStatus };
}

export interface PublishedReport {
  time: number;
  hl7: string;
  line: ReportLine;
}

export interface StudyOutput {
  files: { path: string; bytes: Buffer }[];
  manifest: ManifestLine[];
  reports: PublishedReport[];
  annotations: {
    sopInstanceUid: string;
    class: 'rib' | 'clavicle';
    box: [number, number, number, number];
    split: Split;
  }[];
}

const pad = (n: number): string => String(n).padStart(2, '0');
function dicomDateTime(ms: number): { date: string; time: string } {
  const d = new Date(ms);
  return {
    date: `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`,
  };
}

export const INSTITUTION = 'SYNTHETIC GENERAL HOSPITAL';
export const FACILITY = 'SYNTH_HOSP';

export function generateStudy(plan: StudyPlan, seed: number, size: number): StudyOutput {
  const out: StudyOutput = { files: [], manifest: [], reports: [], annotations: [] };
  const anatomyRng = new Rng(seed, 0x414e4154, plan.index);
  const anatomy = drawAnatomy(anatomyRng, plan.findings);
  const final = plan.reports[plan.reports.length - 1];
  if (!final) throw new Error(`study ${plan.index} has no report`);
  const { date, time } = dicomDateTime(plan.studyTime);
  plan.images.forEach((img, k) => {
    const rng = new Rng(img.renderKey, 0x494d47);
    const rendered = renderChestImage(rng, anatomy, plan.fractures, { size, view: img.view });
    const storage = drawPixelStorage(rng);
    const stored = toStoredPixels(rendered.intensity, storage, rng);
    const photometric = storage.monochrome1 ? 'MONOCHROME1' : 'MONOCHROME2';
    const file = `dicom/${img.sopInstanceUid}.dcm`;
    const bytes = writeDicomFile(
      {
        modality: img.modality,
        sopInstanceUid: img.sopInstanceUid,
        studyInstanceUid: plan.studyInstanceUid,
        seriesInstanceUid: img.seriesInstanceUid,
        accessionNumber: plan.accession,
        patientId: plan.patient.patientId,
        patientName: `${plan.patient.family}^${plan.patient.given}`,
        patientBirthDate: plan.patient.birthDate,
        patientSex: plan.patient.sex,
        studyDate: date,
        studyTime: time,
        studyId: String(plan.index + 1),
        studyDescription: plan.procedureText,
        seriesNumber: k + 1,
        instanceNumber: 1,
        viewPosition: img.view,
        institutionName: INSTITUTION,
        referringPhysician: plan.orderingProvider.split('^').slice(1, 3).join('^'),
        rows: size,
        columns: size,
        // A 43 cm detector imaged at `size` pixels.
        pixelSpacingMm: Math.round((430 / size) * 1000) / 1000,
        bitsStored: storage.bitsStored,
        pixelRepresentation: storage.signed ? 1 : 0,
        photometricInterpretation: photometric,
        rescaleSlope: storage.rescaleSlope,
        rescaleIntercept: storage.rescaleIntercept,
        windowCenter: stored.windowCenter,
        windowWidth: stored.windowWidth,
      },
      stored.words,
      img.compressed,
    );
    out.files.push({ path: file, bytes });
    out.manifest.push({
      sopInstanceUid: img.sopInstanceUid,
      seriesInstanceUid: img.seriesInstanceUid,
      studyInstanceUid: plan.studyInstanceUid,
      accession: plan.accession,
      patientId: plan.patient.patientId,
      viewPosition: img.view,
      file,
      rows: size,
      columns: size,
      modality: img.modality,
      photometricInterpretation: photometric,
      transferSyntaxUid: img.compressed ? '1.2.840.10008.1.2.5' : '1.2.840.10008.1.2.1',
      fractures: rendered.fractures,
      reportLabel: { rib: final.intended.rib, clavicle: final.intended.clavicle },
      split: plan.split,
    });
    if (plan.split !== 'record') {
      for (const f of rendered.fractures)
        out.annotations.push({
          sopInstanceUid: img.sopInstanceUid,
          class: f.class,
          box: f.box,
          split: plan.split,
        });
    }
  });
  for (const v of plan.reports) {
    const lines = writeReportLines(new Rng(v.textKey, 0x545854), v.content);
    const hl7 = buildOruMessage({
      messageControlId: v.messageControlId,
      messageTime: v.time,
      sendingApplication: 'RIS',
      sendingFacility: FACILITY,
      patientId: plan.patient.patientId,
      patientFamily: plan.patient.family,
      patientGiven: plan.patient.given,
      birthDate: plan.patient.birthDate,
      sex: plan.patient.sex,
      patientClass: plan.patientClass,
      placerOrder: plan.placerOrder,
      accession: plan.accession,
      procedureCode: plan.procedureCode,
      procedureText: plan.procedureText,
      observationTime: plan.studyTime,
      reportTime: v.time,
      orderingProvider: plan.orderingProvider,
      interpreter: plan.interpreter,
      clinicalInfo: v.content.indication,
      status: v.status,
      lines,
    });
    out.reports.push({
      time: v.time,
      hl7,
      line: {
        accession: plan.accession,
        status: v.status,
        time: new Date(v.time).toISOString(),
        messageControlId: v.messageControlId,
        text: lines.join('\n'),
        intended: v.intended,
      },
    });
  }
  return out;
}
