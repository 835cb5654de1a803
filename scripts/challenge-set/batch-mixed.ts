/**
 * Batch 9: whole short reports written after the fixes of batches 5-8, to score the final rules on
 * text they were not tuned on. Each report mixes two or three of the earlier topics with phrasings
 * none of the earlier batches used (further certainty phrases from the same lexicons: "cannot be
 * completely excluded", "raising the question of", "indeterminate for", "would be atypical for",
 * "no definite radiographic evidence of", "consistent with", "redemonstration of", "stigmata of").
 */
import type { LabelStatus } from '../../services/shared/vocabulary.ts';
import {
  bonePhrase,
  capitalise,
  combine,
  FILLER,
  withArticle,
  type Bone,
  type Finding,
  type LabelledCase,
  type Rng,
} from './phrases.ts';

type Mention = { status: LabelStatus; f: Finding };
type Draft = { text: string; mentions: Mention[]; topic: string };

const NEW_HEDGES_PRE = [
  'Findings raise the question of',
  'Appearance is indeterminate for',
  'There is a suggestion of',
  'Cannot completely exclude',
  'Difficult to exclude',
  'Differential diagnosis includes',
  'Subtle findings may indicate',
];
const NEW_HEDGES_POST = [
  'cannot be completely excluded',
  'is not entirely excluded on this study',
  'is a possibility',
  'is suspected clinically and radiographically',
  'is questioned on the frontal view only',
];
const NEW_ASSERT = [
  'Redemonstration of',
  'Stigmata of',
  'Consistent with',
  'Again demonstrated is',
  'Evidence of',
];
const NEW_NEG = [
  'No definite radiographic evidence of',
  'No visible',
  'There is no radiographic evidence of',
  'No acute or displaced',
];

function mentionText(rng: Rng, bone: Bone, status: LabelStatus): Draft {
  const np = bonePhrase(
    rng,
    bone,
    status === 'negative' ? { acuity: rng.pick(['acute', 'unspecified'] as const) } : {},
  );
  if (status === 'positive') {
    const lead = rng.pick(NEW_ASSERT);
    const body = lead === 'Again demonstrated is' && np.plural ? 'Again demonstrated are' : lead;
    return {
      text: `${body} ${lead === 'Consistent with' ? withArticle(np) : np.bare}.`,
      mentions: [{ status, f: np.finding }],
      topic: 'asserted',
    };
  }
  if (status === 'uncertain') {
    return rng.chance(0.5)
      ? {
          text: `${rng.pick(NEW_HEDGES_PRE)} ${withArticle(np)}.`,
          mentions: [{ status, f: np.finding }],
          topic: 'hedge, new phrasing',
        }
      : {
          text: `${capitalise(withArticle(np))} ${rng.pick(NEW_HEDGES_POST).replace(/^is /, np.plural ? 'are ' : 'is ')}.`,
          mentions: [{ status, f: np.finding }],
          topic: 'hedge after, new phrasing',
        };
  }
  const neg = rng.pick(NEW_NEG);
  const bare = np.bare.replace(/^(?:acute|new|recent|acute-appearing|acute or subacute) /, '');
  return {
    text: `${neg} ${neg === 'No acute or displaced' ? bare : np.bare}.`,
    mentions: [{ status, f: { ...np.finding, acuity: 'unspecified' } }],
    topic: 'negation, new phrasing',
  };
}

function mixedDraft(rng: Rng): Draft {
  const bones: Bone[] = [rng.pick(['rib', 'rib', 'clavicle'] as const)];
  if (rng.chance(0.5)) bones.push(bones[0] === 'rib' ? 'clavicle' : 'rib');
  if (rng.chance(0.15)) bones.push('other');
  const parts: string[] = [];
  const mentions: Mention[] = [];
  const topics: string[] = [];
  for (const b of bones) {
    const d = mentionText(rng, b, rng.pick(['positive', 'uncertain', 'negative', 'positive'] as const));
    parts.push(d.text);
    mentions.push(...d.mentions);
    topics.push(d.topic);
  }
  // A distractor: a fractured device, a comparison sentence or a conditional that asserts nothing.
  const distractor = rng.pick([
    'The third sternotomy wire is fractured, unchanged.',
    'Dedicated rib views could be obtained if there is persistent focal pain.',
    'Degenerative changes of the thoracic spine without compression deformity.',
    'Previously noted pneumothorax has resolved.',
    rng.pick(FILLER),
  ]);
  parts.splice(rng.int(0, parts.length), 0, distractor);
  return { text: `FINDINGS: ${parts.join(' ')}`, mentions, topic: topics.join(' + ') };
}

export function mixedBatch(rng: Rng, batch: string, count: number): LabelledCase[] {
  const out: LabelledCase[] = [];
  for (let i = 0; i < count; i++) {
    const d = mixedDraft(rng);
    out.push({
      id: `${batch}-${String(i + 1).padStart(3, '0')}`,
      batch,
      topic: d.topic,
      text: d.text,
      rib: combine(d.mentions, 'rib'),
      clavicle: combine(d.mentions, 'clavicle'),
      other: { status: combine(d.mentions, 'other').status },
    });
  }
  return out;
}
