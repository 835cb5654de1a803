/**
 * Area under the ROC curve of image-level scores (PAPER.md: score = max of the class map).
 * Ties are handled by midranks, i.e. AUROC = P(s+ > s-) + 0.5 * P(s+ = s-) over all
 * positive-negative pairs. When a class is missing (no positive or no negative) the area is
 * undefined and the result is NaN (a held-out set without, say, clavicle positives is normal, so
 * callers report "n/a" rather than crash). O(n log n).
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new RangeError(`auroc: ${n} scores but ${labels.length} labels`);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`auroc: score ${i} is NaN`);
  }
  order.sort((p, q) => scores[p]! - scores[q]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    const midrank = (start + 1 + end) / 2; // ranks start+1 .. end, 1-based
    for (let k = start; k < end; k++) {
      if (isPositive(labels[order[k]!]!)) {
        positives++;
        positiveRankSum += midrank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function isPositive(label: number | boolean): boolean {
  if (label === true || label === 1) return true;
  if (label === false || label === 0) return false;
  throw new RangeError(`auroc: labels must be 0/1 or booleans, got ${String(label)}`);
}
