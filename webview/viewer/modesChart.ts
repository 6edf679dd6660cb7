/**
 * The checkpoint viewer's class-histogram chart of a mode-coverage metric line: one bar per class (the
 * share of generated samples the classifier put there) with the dataset's share as a reference tick,
 * the 1% coverage threshold as a rule, and a caption with the key figures. Plain DOM + CSS (bar heights
 * through CSS variables: the webview's CSP allows no inline style attributes). Screen readers get the
 * caption and a table of every class instead of the bars.
 * Stable hooks for tests: figure.modes-chart[data-metric][data-covered][data-max-share][data-kl],
 * .bar-col[data-class][data-share][data-reference], table.modes-table.
 */
import { el } from '../common/dom';
import type { SnapshotModes } from '../../src/shared/modeCoverage';

/** A class holds a mode at this share of the samples (core's MODE_THRESHOLD; drawn as a rule). */
const COVERED_AT = 0.01;

const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)}%`;

/** The one-line summary under the chart (also the figure's accessible description). */
export function modesSummary(m: SnapshotModes): string {
  const ref = m.reference ? '' : ' (this line does not record the dataset\'s histogram)';
  return `${m.covered} of ${m.classes} classes covered (≥ 1% of ${m.samples.toLocaleString('en-US')} samples) · ` +
    `largest class ${m.maxClass} with ${pct(m.maxShare)} · KL to the dataset ${m.kl.toFixed(3)} nats${ref}`;
}

/** The chart of one modes line, as a <figure>. */
export function modesChart(m: SnapshotModes): HTMLElement {
  const top = Math.max(COVERED_AT, ...m.histogram, ...(m.reference ?? []));
  // Scale: the largest bar or reference fills the plot, rounded up to the next 10% (a readable axis label).
  const scale = Math.min(1, Math.ceil(top * 10 - 1e-9) / 10 || 0.1);
  const captionId = `modes-caption-${m.metric}`;
  const cols = m.histogram.map((share, c) => {
    const ref = m.reference?.[c];
    const bar = el('span', { class: share >= COVERED_AT ? 'bar' : 'bar uncovered' });
    bar.style.setProperty('--h', String(Math.min(1, share / scale)));
    const col = el('span', { class: 'bar-col', 'data-class': String(c), 'data-share': String(share), title: `class ${c}: ${pct(share)} of the samples${ref !== undefined ? `, dataset ${pct(ref)}` : ''}` }, bar);
    if (ref !== undefined) {
      const tick = el('span', { class: 'ref' });
      tick.style.setProperty('--h', String(Math.min(1, ref / scale)));
      col.dataset.reference = String(ref);
      col.append(tick);
    }
    return col;
  });
  const rule = el('span', { class: 'threshold' });
  rule.style.setProperty('--h', String(COVERED_AT / scale));
  const plot = el('div', { class: 'modes-plot', 'aria-hidden': 'true' },
    el('span', { class: 'axis-top' }, pct(scale, 0)), rule, ...cols);
  const labels = el('div', { class: 'modes-labels', 'aria-hidden': 'true' }, ...m.histogram.map((_, c) => el('span', {}, String(c))));
  for (const row of [plot, labels]) row.style.setProperty('--classes', String(m.histogram.length));
  const legend = el('p', { class: 'modes-legend muted', 'aria-hidden': 'true' },
    el('span', { class: 'key bar' }), ' generated samples  ',
    ...(m.reference ? [el('span', { class: 'key ref' }), ' dataset  '] : []),
    el('span', { class: 'key threshold' }), ' 1% (covered)');
  const rows = m.histogram.map((share, c) => el('tr', {},
    el('th', { scope: 'row' }, String(c)),
    el('td', { class: 'num' }, pct(share)),
    ...(m.reference ? [el('td', { class: 'num' }, pct(m.reference[c]))] : [])));
  const table = el('table', { class: 'modes-table data sr-only' },
    el('caption', {}, `Class shares of ${m.metric}`),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Class'), el('th', { scope: 'col' }, 'Generated'), ...(m.reference ? [el('th', { scope: 'col' }, 'Dataset')] : []))),
    el('tbody', {}, ...rows));
  const caption = el('figcaption', { id: captionId }, el('strong', {}, m.metric), ': ', modesSummary(m));
  return el('figure', {
    class: 'modes-chart', 'aria-labelledby': captionId,
    'data-metric': m.metric, 'data-covered': String(m.covered), 'data-max-share': String(m.maxShare), 'data-kl': String(m.kl),
  }, plot, labels, legend, caption, table);
}
