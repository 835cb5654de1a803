/**
 * The words the whole system shares, declared once: what the detector finds, what a report says
 * of each finding, and the HL7 result status of a report version. Everything else imports these.
 */

/** The detector's classes, in the order of its output channels. */
export const DETECTOR_CLASSES = ['rib', 'clavicle'] as const;
export type DetectorClass = (typeof DETECTOR_CLASSES)[number];

/** What a report says of one finding (the report rules' output, the record label of a study). */
export const LABEL_STATUSES = ['positive', 'uncertain', 'negative'] as const;
export type LabelStatus = (typeof LABEL_STATUSES)[number];

/** OBR-25 result status of a report version: preliminary, final, corrected. */
export const REPORT_STATUSES = ['P', 'F', 'C'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
