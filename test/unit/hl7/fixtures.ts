/** Builds ORU^R01 test messages; segments joined by CR as HL7 requires. */
export interface OruOptions {
  version?: string;
  controlId?: string;
  status?: string;
  obr?: Array<{
    accession?: string;
    placer?: string;
    code?: string;
    time?: string;
    status?: string;
    obx: string[];
  }>;
}

export function oru(opts: OruOptions = {}): string {
  const version = opts.version ?? '2.5.1';
  const groups = opts.obr ?? [
    { obx: ['OBX|1|TX|18782-3^Study observation^LN||FINDINGS: No fracture.||||||F'] },
  ];
  const segs = [
    `MSH|^~\\&|RIS|GENHOSP^2.16.840.1.1^ISO|EHR|GENHOSP|20240301101500||ORU^R01|${opts.controlId ?? 'CTRL0001'}|P|${version}`,
    'PID|1||MRN777^^^GENHOSP^MR||DOE^JANE||19600101|F',
  ];
  groups.forEach((g, i) => {
    const obr = [
      'OBR',
      String(i + 1),
      g.placer ?? `PL${i + 1}`,
      g.accession ?? `ACC${i + 1}`,
      g.code ?? '71046^XR CHEST 2 VIEWS^CPT',
      '',
      '',
      g.time ?? '20240301093000',
    ];
    while (obr.length < 25) obr.push('');
    obr.push(g.status ?? opts.status ?? 'F');
    segs.push(obr.join('|'));
    segs.push(...g.obx);
  });
  return segs.join('\r');
}
