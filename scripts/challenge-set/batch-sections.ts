/**
 * Batch 7: the same finding asserted in one section and hedged or negated in another (findings,
 * impression, addendum, comparison, prior-study sentences), and conditional or recommendation
 * sentences with and without a real finding elsewhere. Gold labels follow the precedence rule
 * written in services/shared/report-rules/README.md ("When sections disagree"), transcribed here
 * as `labelBySections`.
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import {
  be,
  bonePhrase,
  boneSite,
  capitalise,
  combine,
  FILLER,
  IMPRESSION_FILLER,
  siteFinding,
  withArticle,
  type Bone,
  type Finding,
  type LabelledCase,
  type NounPhrase,
  type Rng,
} from './phrases.ts';

interface Mention {
  status: LabelStatus;
  f: Finding;
  /** 0 findings, 1 impression, 2 addendum. */
  rank: number;
  /** "additional", "another" ...: a finding of its own. */
  another?: boolean;
  /** A negation qualified by acuity or displacement ("no acute rib fracture"). */
  qualified?: boolean;
}

function compatible(a: Finding, b: Finding): boolean {
  if (a.bone !== b.bone) return false;
  if (a.side !== 'unspecified' && b.side !== 'unspecified' && a.side !== b.side) return false;
  if (a.ribs.length > 0 && b.ribs.length > 0 && !a.ribs.some((r) => b.ribs.includes(r))) return false;
  return true;
}

/** The README precedence rule: higher sections replace the same finding lower down. */
export function labelBySections(mentions: Mention[]): Pick<LabelledCase, 'rib' | 'clavicle' | 'other'> {
  const kept = mentions.filter(
    (m) =>
      !mentions.some(
        (h) =>
          h.rank > m.rank && !h.another && !(h.status === 'negative' && h.qualified) && compatible(h.f, m.f),
      ),
  );
  return {
    rib: combine(kept, 'rib'),
    clavicle: combine(kept, 'clavicle'),
    other: { status: combine(kept, 'other').status },
  };
}

type Draft = {
  findings: string;
  impression?: string;
  addendum?: string;
  comparison?: string;
  mentions: Mention[];
  topic: string;
};

const HEDGE_PRE = ['Possible', 'Probable', 'Questionable', 'Suspected', 'Likely'];
const HEDGE_POST = ['cannot be excluded', 'is suspected', 'is not excluded', 'is questioned'];
const NEG_UNQUALIFIED = (site: string) => [
  `No ${site} fracture.`,
  `No evidence of ${site} fracture.`,
  `No ${site} fracture is identified.`,
];
const NEG_QUALIFIED = [
  'No acute fracture.',
  'No acute rib fracture.',
  'No displaced fracture.',
  'No new fracture.',
  'No acute osseous abnormality or displaced fracture.',
];
const ANOTHER = ['additional', 'second', 'separate'];

function hedged(rng: Rng, np: NounPhrase): string {
  return rng.chance(0.6)
    ? `${rng.pick(HEDGE_PRE)} ${np.bare}.`
    : `${capitalise(withArticle(np))} ${rng.pick(HEDGE_POST).replace(/^is /, `${be(np)} `)}.`;
}

function positive(rng: Rng, np: NounPhrase): string {
  return rng.pick([
    `${capitalise(np.bare)}.`,
    `There ${be(np)} ${withArticle(np)}.`,
    `${capitalise(np.bare)} ${be(np)} noted.`,
  ]);
}

/** The same finding restated, with fewer details (side kept or dropped, numbers dropped). */
function restate(rng: Rng, f: Finding): { np: NounPhrase; f: Finding } {
  const keepSide = rng.chance(0.7);
  const side = keepSide ? f.side : 'unspecified';
  const np = bonePhrase(rng, f.bone, {
    acuity: f.acuity === 'unspecified' ? 'unspecified' : f.acuity,
    side,
    noNumbers: rng.chance(0.5),
  });
  // Keep the restatement about the same ribs when it names numbers.
  const g = { ...np.finding };
  if (f.bone === 'rib' && g.ribs.length > 0 && !g.ribs.some((r) => f.ribs.includes(r))) {
    const plain = bonePhrase(rng, f.bone, { acuity: f.acuity, side, noNumbers: true });
    return { np: plain, f: plain.finding };
  }
  return { np, f: g };
}

function siteWord(f: Finding): string {
  return f.bone === 'rib' ? 'rib' : f.bone === 'clavicle' ? 'clavicle' : 'sternal';
}

function sectionDraft(rng: Rng, form: number): Draft {
  const bone: Bone = rng.pick(['rib', 'rib', 'rib', 'clavicle', 'clavicle']);
  const np = bonePhrase(rng, bone);
  const f = np.finding;
  switch (form) {
    case 0: {
      // Findings assert, impression hedges the same finding: uncertain.
      const r = restate(rng, f);
      return {
        findings: positive(rng, np),
        impression: hedged(rng, r.np),
        mentions: [
          { status: 'positive', f, rank: 0 },
          { status: 'uncertain', f: r.f, rank: 1 },
        ],
        topic: 'findings assert, impression hedges',
      };
    }
    case 1: {
      const r = restate(rng, f);
      return {
        findings: hedged(rng, np),
        impression: positive(rng, r.np),
        mentions: [
          { status: 'uncertain', f, rank: 0 },
          { status: 'positive', f: r.f, rank: 1 },
        ],
        topic: 'findings hedge, impression asserts',
      };
    }
    case 2: {
      const status = rng.pick(['positive', 'uncertain'] as const);
      const site = f.side !== 'unspecified' && rng.chance(0.5) ? `${f.side} ${siteWord(f)}` : siteWord(f);
      return {
        findings: status === 'positive' ? positive(rng, np) : hedged(rng, np),
        impression: rng.pick(NEG_UNQUALIFIED(site)),
        mentions: [
          { status, f, rank: 0 },
          {
            status: 'negative',
            f: { ...f, side: site.includes(' ') ? f.side : 'unspecified', ribs: [] },
            rank: 1,
          },
        ],
        topic: 'impression negates the finding',
      };
    }
    case 3: {
      const old = bonePhrase(rng, bone, { acuity: 'old' });
      return {
        findings: positive(rng, old),
        impression: rng.pick(NEG_QUALIFIED),
        mentions: [{ status: 'positive', f: old.finding, rank: 0 }],
        topic: 'old fracture, impression negates only an acute one',
      };
    }
    case 4: {
      // A second, different finding hedged in the impression: both stand.
      const other = bonePhrase(rng, bone, {
        side: f.side === 'left' ? 'right' : 'left',
        acuity: 'unspecified',
        plain: true,
      });
      const word = other.plural ? 'additional' : rng.pick(ANOTHER);
      const phrase = other.bare.replace(/^(?:age-indeterminate|multiple) /, '');
      return {
        findings: positive(rng, np),
        impression: `${rng.pick(['Possible', 'Questionable'])} ${word} ${phrase}.`,
        mentions: [
          { status: 'positive', f, rank: 0 },
          { status: 'uncertain', f: other.finding, rank: 1, another: true },
        ],
        topic: 'impression hedges another finding',
      };
    }
    case 5: {
      const status = rng.pick(['positive', 'uncertain'] as const);
      return {
        findings: status === 'positive' ? positive(rng, np) : hedged(rng, np),
        impression: rng.pick(IMPRESSION_FILLER),
        mentions: [{ status, f, rank: 0 }],
        topic: 'impression silent about the finding',
      };
    }
    case 6: {
      // Addendum asserts what the report missed or hedged.
      const earlier = rng.pick(['negative', 'uncertain'] as const);
      const r = restate(rng, f);
      return {
        findings: earlier === 'negative' ? `No ${siteWord(f)} fracture.` : hedged(rng, np),
        impression: earlier === 'negative' ? rng.pick(IMPRESSION_FILLER) : hedged(rng, r.np),
        addendum: `${rng.pick(['On further review, there', 'Dedicated views were obtained. There', 'After discussion with the clinical team, there'])} ${be(np)} ${withArticle(np)}.`,
        mentions: [
          {
            status: earlier,
            f: earlier === 'negative' ? { ...f, side: 'unspecified', ribs: [] } : f,
            rank: 0,
          },
          ...(earlier === 'uncertain' ? [{ status: 'uncertain' as const, f: r.f, rank: 1 }] : []),
          { status: 'positive', f, rank: 2 },
        ],
        topic: 'addendum asserts',
      };
    }
    case 7: {
      // Addendum withdraws the finding.
      const status = rng.pick(['positive', 'uncertain'] as const);
      const site = f.side !== 'unspecified' ? `${f.side} ${siteWord(f)}` : siteWord(f);
      return {
        findings: status === 'positive' ? positive(rng, np) : hedged(rng, np),
        addendum: rng.pick([
          `On review of the lateral view, there is no ${site} fracture; the finding represents overlapping vessels.`,
          `Dedicated views show no ${site} fracture.`,
          `No ${site} fracture is present on the oblique views.`,
        ]),
        mentions: [
          { status, f, rank: 0 },
          { status: 'negative', f: { ...f, ribs: [] }, rank: 2 },
        ],
        topic: 'addendum withdraws',
      };
    }
    case 8: {
      const r = restate(rng, f);
      return {
        findings: hedged(rng, np),
        addendum: `${rng.pick([f.bone === 'rib' ? 'Dedicated rib views confirm' : 'Dedicated views confirm', 'Oblique views confirm', 'Further review confirms'])} ${withArticle(r.np)}.`,
        mentions: [
          { status: 'uncertain', f, rank: 0 },
          { status: 'positive', f: r.f, rank: 2 },
        ],
        topic: 'addendum confirms',
      };
    }
    case 9: {
      // Comparison section mentions a fracture; findings decide.
      const now = rng.pick(['again', 'nothing', 'healed'] as const);
      const findings =
        now === 'again'
          ? `The ${siteWord(f)} fracture${np.plural ? 's are' : ' is'} again seen.`
          : now === 'healed'
            ? `The ${siteWord(f)} fracture${np.plural ? 's have' : ' has'} healed.`
            : rng.pick([
                'No acute osseous abnormality.',
                'Osseous structures are unremarkable.',
                'Lungs are clear.',
              ]);
      const seen = {
        ...f,
        acuity: now === 'healed' ? ('old' as const) : ('unspecified' as const),
        side: 'unspecified' as const,
        ribs: [],
      };
      return {
        comparison: `${rng.pick(['Chest CT of XXXX demonstrating', 'Radiograph of XXXX with', 'Prior study showing'])} ${np.bare.replace(/^fractured /, 'fracture of the ').replace(/^.*?(fractures? of)/, '$1')}.`,
        findings,
        mentions: now === 'nothing' ? [] : [{ status: 'positive', f: seen, rank: 0 }],
        topic: 'comparison section names a fracture',
      };
    }
    case 10: {
      const c = rng.int(0, 3);
      const bare = np.bare.replace(
        /^(?:age-indeterminate|multiple|old|healed|chronic|remote|acute|new|recent|healing|subacute) /,
        '',
      );
      const p = { ...np, bare };
      if (c === 0)
        return {
          findings: `${capitalise(withArticle(p))}, not seen on the prior ${rng.pick(['study', 'examination', 'radiograph'])}.`,
          mentions: [{ status: 'positive', f: { ...f, acuity: 'unspecified' }, rank: 0 }],
          topic: 'fracture not seen on the prior study',
        };
      if (c === 1)
        return {
          findings: `${capitalise(withArticle(p))}, new since the prior examination.`,
          mentions: [{ status: 'positive', f: { ...f, acuity: 'acute' }, rank: 0 }],
          topic: 'fracture new since the prior study',
        };
      if (c === 2)
        return {
          findings: `The ${bare} seen on the prior study ${be(np)} no longer visualized.`,
          mentions: [{ status: 'negative', f, rank: 0 }],
          topic: 'prior fracture no longer visualized',
        };
      return {
        findings: `Interval healing of the ${bare}.`,
        mentions: [{ status: 'positive', f: { ...f, acuity: 'healing' }, rank: 0 }],
        topic: 'interval healing',
      };
    }
    default: {
      // Numbered impression asserting what the findings hedged.
      const r = restate(rng, f);
      return {
        findings: hedged(rng, np),
        impression: `1. ${positive(rng, r.np)} 2. ${rng.pick(['No pneumothorax.', 'No acute cardiopulmonary abnormality.', 'Mild bibasilar atelectasis.'])}`,
        mentions: [
          { status: 'uncertain', f, rank: 0 },
          { status: 'positive', f: r.f, rank: 1 },
        ],
        topic: 'numbered impression asserts',
      };
    }
  }
}

const PURE_CONDITIONALS = [
  'If there is clinical concern for rib fracture, dedicated rib views could be obtained.',
  'Dedicated rib series is recommended if rib fracture is clinically suspected.',
  'Should there be concern for clavicle fracture, dedicated clavicle views could be performed.',
  'If there is continued suspicion for rib fracture, a rib series is recommended.',
  'If symptoms persist, follow-up radiographs may be obtained to evaluate for occult rib fracture.',
  'If there is point tenderness, dedicated views of the clavicle could be obtained to exclude fracture.',
  'Rib fractures may be radiographically occult; if clinically suspected, rib films are recommended.',
  'Recommend dedicated rib views if clinically indicated to exclude rib fracture.',
  'Consider CT if there is clinical concern for sternal fracture.',
];

function conditionalDraft(rng: Rng, form: number): Draft {
  switch (form) {
    case 0:
    case 1:
      return {
        findings: `${rng.pick(FILLER)} ${rng.pick(PURE_CONDITIONALS)}`,
        mentions: [],
        topic: 'conditional recommendation only',
      };
    case 2: {
      // A real finding and a conditional about more.
      const np = bonePhrase(rng, rng.pick(['rib', 'rib', 'clavicle'] as const));
      return {
        findings: `${positive(rng, np)} ${rng.pick([
          'If there is concern for additional fractures, dedicated rib views are recommended.',
          'Rib series could be obtained if further rib fractures are clinically suspected.',
          'If clinically indicated, CT could be performed to evaluate for additional fractures.',
        ])}`,
        mentions: [{ status: 'positive', f: np.finding, rank: 0 }],
        topic: 'finding plus conditional about more',
      };
    }
    case 3: {
      const np = bonePhrase(rng, 'clavicle', { acuity: 'old' });
      return {
        findings: `${positive(rng, np)} Rib series could be obtained if rib fracture is clinically suspected.`,
        mentions: [{ status: 'positive', f: np.finding, rank: 0 }],
        topic: 'clavicle finding, conditional about ribs',
      };
    }
    case 4: {
      // Conditional about a described finding: a hedge on it.
      const bone = rng.pick(['rib', 'rib', 'clavicle'] as const);
      const f = siteFinding(rng, bone);
      const site = boneSite(rng, f);
      const text = rng.pick([
        `Subtle lucency of ${site}; if there is point tenderness at this site, this would be suspicious for a nondisplaced fracture.`,
        `Cortical irregularity of ${site}. If there is focal tenderness, a nondisplaced fracture should be suspected.`,
        `Questionable lucency in ${site}; correlate for point tenderness to exclude fracture.`,
        `Focal step-off of ${site}. If this corresponds to the site of pain, this likely represents a fracture.`,
      ]);
      return {
        findings: text,
        mentions: [{ status: 'uncertain', f, rank: 0 }],
        topic: 'conditional about a described finding',
      };
    }
    case 5: {
      const np = bonePhrase(rng, rng.pick(['rib', 'clavicle'] as const));
      const status = rng.pick(['positive', 'uncertain'] as const);
      return {
        findings: `${status === 'positive' ? positive(rng, np) : hedged(rng, np)} ${rng.pick([
          'Recommend dedicated views for further evaluation.',
          'Recommend clinical correlation.',
          'Follow-up radiographs are recommended.',
          'Correlate with physical examination.',
        ])}`,
        mentions: [{ status, f: np.finding, rank: 0 }],
        topic: 'finding plus recommendation',
      };
    }
    default: {
      // Conditional in the impression after a real finding in the findings.
      const np = bonePhrase(rng, 'rib');
      return {
        findings: positive(rng, np),
        impression: `${capitalise(np.bare)}. ${rng.pick(PURE_CONDITIONALS)}`,
        mentions: [
          { status: 'positive', f: np.finding, rank: 0 },
          { status: 'positive', f: np.finding, rank: 1 },
        ],
        topic: 'impression finding plus conditional',
      };
    }
  }
}

export function sectionsBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const d = i % 10 < 7 ? sectionDraft(rng, rng.int(0, 11)) : conditionalDraft(rng, rng.int(0, 6));
    const parts: string[] = [];
    if (d.comparison) parts.push(`COMPARISON: ${d.comparison}`);
    const before = rng.chance(0.4) ? `${rng.pick(FILLER)} ` : '';
    parts.push(`FINDINGS: ${before}${d.findings}`);
    if (d.impression) parts.push(`IMPRESSION: ${d.impression}`);
    if (d.addendum) parts.push(`${rng.pick(['ADDENDUM', 'Addendum'])}: ${d.addendum}`);
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: parts.join('\n'),
      ...labelBySections(d.mentions),
    });
  }
  return out;
}
