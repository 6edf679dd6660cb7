/**
 * Feature-map segmentation webview (the GGDR paper's picture): samples of a batch of seeds with the
 * K-means segmentation of G's feature maps at each chosen resolution below them (one K-means over all
 * pixels of the batch, so a colour is one cluster in every image), D's GGDR decoder output on the same
 * fakes and on real images (labelled with G's centroids: same colours), the mean cosine between D's
 * prediction and G's features, per-cluster pixel shares, an overlay mode with opacity, cluster
 * highlighting, and a strip clustering the same seeds at every snapshot of the run.
 * Stable ids for end-to-end tests: #results[data-run-count], #shares tr[data-res][data-cluster] td.share[data-value],
 * #decoder-shares tr[data-source][data-cluster], #decoder-cosine[data-value], #decoder-note,
 * #across .across-row[data-kimg], #status[data-state].
 */
import '../common/base.css';
import '../viewer/viewer.css';
import './segmentation.css';
import { connect, loadState, reportErrors, saveState } from '../common/channel';
import { fixButtonSpace, keepFocusBelow, roving, setText } from '../common/a11y';
import { el, snapshotChrome } from '../common/dom';
import { MAX_ACROSS_SEEDS, MAX_SEGMENT_SEEDS, isSegmentationPanelState, type SegmentationHostApi, type SegmentationInfo, type SegmentationPanelState, type SegmentationWebviewApi, type SegmentationView } from '../../src/shared/protocol/panels/segmentation';
import { MAX_K, decodeLabels, formatSeeds, parseSeedSpec, type AcrossItem, type ClusterMap, type MetricName, type SegmentPayload } from '../../src/shared/protocol/inference';
import { paletteHex } from '../../src/shared/palette';
import { button, cellSize, checkbox, classPicker, errorText, formatMs, radioGroup, seedNote, slider, textfield } from '../viewer/ui';
import { formatShare, labelAt, labelImageRgba } from './labels';

const channel = connect<SegmentationWebviewApi, SegmentationHostApi>();
reportErrors((message) => void channel.emit('webviewError', { message }));

const saved = loadState(isSegmentationPanelState);
const ui: SegmentationPanelState = saved ?? {
  v: 1, snapshot: '', seeds: '0-7', resolutions: [], k: 6, metric: 'cosine', psi: 1, reals: true,
  view: 'maps', opacity: 0.55, selected: null, acrossRes: 8, acrossSeeds: '0-3',
};
let info: SegmentationInfo | undefined;

function persist(): void {
  if (ui.snapshot) saveState(ui);
}

//#region DOM skeleton

const { title, meta, status, progress, errorBox, setStatus, showError } = snapshotChrome('Feature-map segmentation', 'Segmentation progress');
const cancelBtn = button('cancel', 'Cancel', { secondary: true, title: 'Cancel the running segmentation' });
cancelBtn.hidden = true;

const seedsField = textfield('seeds', 'Seeds', ui.seeds, { placeholder: '0-7', title: `The batch to generate and cluster together (at most ${MAX_SEGMENT_SEEDS})` });
const seedsError = el('span', { id: 'seeds-error', class: 'error-text', role: 'alert' });
const resBox = el('span', { id: 'resolutions', class: 'control', role: 'group', 'aria-label': 'Generator resolutions to cluster' });
const kField = textfield('k', 'K', String(ui.k), { type: 'number', min: 2, max: MAX_K, size: 'xs', title: 'Number of clusters' });
const metric = radioGroup<MetricName>('metric', 'Distance', [['cosine', 'cosine'], ['euclidean', 'euclidean']], ui.metric, (v) => {
  ui.metric = v;
  persist();
});
const psi = slider('psi', 'ψ', { min: 0, max: 1.5, step: 0.05, value: ui.psi, title: 'Truncation ψ of the generated batch' });
const realsBox = checkbox('reals', "D's decoder on real images too", ui.reals);
const runBtn = button('run', 'Cluster', { title: 'Generate the batch and run K-means (Enter in a field does the same)' });
const viewerBtn = button('open-viewer', 'Open checkpoint viewer', { secondary: true });
// Conditional models only: the class of the whole batch.
const classes = classPicker('class', 'Class', (v) => {
  ui.label = v;
  persist();
});
classes.wrap.hidden = true;

const viewMode = radioGroup<SegmentationView>('view-mode', 'Show', [['maps', 'maps'], ['overlay', 'overlay on samples']], ui.view, (v) => {
  ui.view = v;
  applyView();
  redrawAll();
  persist();
});
const opacity = slider('opacity', 'Opacity', { min: 0, max: 1, step: 0.05, value: ui.opacity, title: 'Opacity of the segmentation over the samples (overlay mode)' });
const clearSel = button('clear-selection', 'Clear highlight', { secondary: true });

const controls = el('div', { class: 'controls', role: 'group', 'aria-label': 'Clustering settings' },
  seedsField.wrap, classes.wrap, resBox, kField.wrap, metric.wrap, psi.wrap, realsBox, runBtn, viewerBtn);
const viewControls = el('div', { class: 'controls', role: 'group', 'aria-label': 'Display' }, viewMode.wrap, opacity.wrap, clearSel);
const header = el('header', { class: 'toolbar' },
  el('div', { class: 'title-row' }, title, meta, status, progress, cancelBtn),
  controls, viewControls, el('div', { class: 'subrow' }, seedsError));

const fitNote = el('p', { id: 'fit-note', class: 'muted note' });
const seedsNote = el('p', { id: 'seed-note', class: 'muted note' });
seedsNote.hidden = true;
// Scrolls sideways with many seeds: Chromium then makes it a Tab stop (to scroll by keyboard), so it needs a name.
const rows = el('div', { id: 'rows', class: 'rows', role: 'region', 'aria-label': 'Samples and segmentation maps' });
const decoderCosine = el('p', { id: 'decoder-cosine' });
decoderCosine.hidden = true;
const decoderNote = el('p', { id: 'decoder-note', class: 'muted' });
decoderNote.hidden = true;
const sharesTable = el('table', { id: 'shares', class: 'data', 'aria-label': "Pixel share of each cluster of G's feature maps" });
const decoderShares = el('table', { id: 'decoder-shares', class: 'data', 'aria-label': "Pixel share of each cluster of D's decoder output" });
// The highlight buttons of a table are one Tab stop; Up/Down move between them (they are the keyboard
// way to highlight a cluster; clicking a map does the same with the mouse).
for (const t of [sharesTable, decoderShares]) {
  roving(t, 'button.pick', { orientation: 'vertical', key: (b) => `${b.closest('tr')?.dataset.source ?? ''}|${b.dataset.space}|${b.dataset.cluster}` });
}
const results = el('section', { id: 'results', 'data-run-count': '0', 'aria-labelledby': 'results-heading' },
  el('h2', { id: 'results-heading' }, 'Samples and segmentation maps'), seedsNote, fitNote, decoderCosine, decoderNote, rows,
  el('div', { class: 'tables' },
    el('section', {}, el('h2', {}, 'Cluster shares (G)'), el('p', { class: 'muted note' }, 'Select a cluster to highlight it in every image (or click a map). Up and Down arrow keys move between clusters.'), sharesTable),
    el('section', { id: 'decoder-shares-section' }, el('h2', {}, "Cluster shares (D's decoder)"), decoderShares)));

const acrossRes = el('span', { id: 'across-res-wrap', class: 'control' });
const acrossSeeds = textfield('across-seeds', 'Seeds', ui.acrossSeeds, { size: 's', title: `Seeds clustered at each snapshot (at most ${MAX_ACROSS_SEEDS})` });
const acrossRun = button('across-run', 'Cluster at every snapshot');
const acrossCancel = button('across-cancel', 'Cancel', { secondary: true });
acrossCancel.hidden = true;
const acrossStatus = el('span', { id: 'across-status', class: 'muted', role: 'status' });
const acrossProgress = el('progress', { id: 'across-progress', max: '1', 'aria-label': 'Across-snapshots progress' });
acrossProgress.hidden = true;
const acrossStrip = el('div', { id: 'across', class: 'rows', 'data-count': '0', role: 'region', 'aria-label': 'Segmentation at every snapshot' });
const acrossSection = el('section', { id: 'across-section', 'aria-labelledby': 'across-heading' },
  el('h2', { id: 'across-heading' }, 'Across snapshots'),
  el('p', { class: 'muted note' }, 'The same seeds clustered at every loadable snapshot of the run, to watch the segmentation emerge. ',
    'Each snapshot is clustered on its own, so colours are ordered by cluster size (colour 0 = largest) rather than tied to a part across rows.'),
  el('div', { class: 'controls', role: 'group', 'aria-label': 'Across-snapshots settings' }, acrossRes, acrossSeeds.wrap, acrossRun, acrossCancel, acrossProgress, acrossStatus),
  acrossStrip);

document.body.append(header, errorBox, el('main', {}, results, acrossSection));
keepFocusBelow(header);
fixButtonSpace();

//#endregion

//#region maps and selection

/** One drawn label map: a canvas showing image `index` of `labels`, in selection space `space`. */
interface DrawnMap {
  canvas: HTMLCanvasElement;
  labels: Uint8Array;
  index: number;
  res: number;
  space: string;
}
let drawn: DrawnMap[] = [];
/** Selected cluster per selection space ('G8' = G's clusters at 8×8 and D's maps labelled with them). */
const selection = new Map<string, number>();
let runCount = 0;
let cell = 64;

function spaceOfG(res: number): string {
  return `G${res}`;
}

function draw(m: DrawnMap): void {
  const ctx = m.canvas.getContext('2d');
  if (!ctx) return;
  const rgba = labelImageRgba(m.labels, m.index, m.res, ui.view, selection.get(m.space) ?? null);
  ctx.putImageData(new ImageData(rgba, m.res, m.res), 0, 0);
}

function redrawAll(spaces?: Set<string>): void {
  for (const m of drawn) if (!spaces || spaces.has(m.space)) draw(m);
}

function select(space: string, cluster: number | null): void {
  if (cluster === null || selection.get(space) === cluster) selection.delete(space);
  else selection.set(space, cluster);
  const g = /^G(\d+)$/.exec(space);
  if (g) {
    const c = selection.get(space);
    ui.selected = c === undefined ? null : { res: Number(g[1]), cluster: c };
    // One persisted G selection: clear the others.
    for (const s of [...selection.keys()]) if (s !== space && /^G\d+$/.test(s)) selection.delete(s);
    persist();
  }
  redrawAll();
  for (const b of document.querySelectorAll<HTMLButtonElement>('button.pick')) {
    b.setAttribute('aria-pressed', String(selection.get(b.dataset.space!) === Number(b.dataset.cluster)));
  }
}

function applyView(): void {
  results.classList.toggle('mode-overlay', ui.view === 'overlay');
  acrossSection.classList.toggle('mode-overlay', ui.view === 'overlay');
  document.body.style.setProperty('--opacity', String(ui.opacity));
  opacity.input.disabled = ui.view !== 'overlay';
}

/** A cell: the sample image (visible in overlay mode) under the label map canvas. */
function mapCell(sampleSrc: string | null, labels: Uint8Array, index: number, res: number, space: string, alt: string): HTMLElement {
  const canvas = el('canvas', { width: String(res), height: String(res), role: 'img', 'aria-label': alt });
  const m: DrawnMap = { canvas, labels, index, res, space };
  drawn.push(m);
  draw(m);
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    select(space, labelAt(labels, index, res, e.clientX - r.left, e.clientY - r.top, r.width));
  });
  const c = el('div', { class: 'cell map' });
  if (sampleSrc) c.append(el('img', { src: sampleSrc, alt: '', 'aria-hidden': 'true' }));
  c.append(canvas);
  return c;
}

function imageCell(src: string, alt: string, caption?: string): HTMLElement {
  const c = el('figure', { class: 'cell sample' }, el('img', { src, alt }));
  if (caption) c.append(el('figcaption', {}, caption));
  return c;
}

function row(source: string, res: number | null, heading: string, detail: string, cells: HTMLElement[]): HTMLElement {
  const attrs: Record<string, string> = { class: 'map-row', 'data-source': source };
  if (res !== null) attrs['data-res'] = String(res);
  return el('div', attrs, el('div', { class: 'row-head' }, el('span', { class: 'row-title' }, heading), el('span', { class: 'muted' }, detail)), el('div', { class: 'cells' }, ...cells));
}

function fitText(m: ClusterMap): string {
  return m.sampled ? `fitted on ${m.fitPixels.toLocaleString()} of ${m.totalPixels.toLocaleString()} pixels` : `all ${m.totalPixels.toLocaleString()} pixels`;
}

function sharesRows(space: string, source: string | null, res: number, m: ClusterMap, label: string): HTMLTableRowElement[] {
  return m.shares.map((s, cluster) => {
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = paletteHex(cluster);
    const pick = el('button', {
      type: 'button', class: 'pick', 'data-space': space, 'data-cluster': String(cluster),
      'aria-pressed': String(selection.get(space) === cluster), title: `Highlight cluster ${cluster} (${label}) in every image`,
      'aria-label': `Highlight cluster ${cluster} (${label})`,
    }, sw, `${cluster}`);
    pick.addEventListener('click', () => select(space, cluster));
    const attrs: Record<string, string> = { 'data-res': String(res), 'data-cluster': String(cluster) };
    if (source) attrs['data-source'] = source;
    return el('tr', attrs, el('td', {}, pick), el('td', {}, label), el('td', { class: 'num share', 'data-value': String(s) }, formatShare(s)));
  });
}

function tableHead(): HTMLTableSectionElement {
  return el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Cluster'), el('th', { scope: 'col' }, 'Map'), el('th', { scope: 'col' }, 'Share of pixels')));
}

function showResult(r: SegmentPayload): void {
  drawn = drawn.filter((d) => acrossStrip.contains(d.canvas));
  cell = cellSize(r.resolution, 64, 128);
  rows.style.setProperty('--cell', `${cell}px`);
  const out: HTMLElement[] = [];
  out.push(row('samples', null, 'Samples', `seeds ${formatSeeds(r.seeds)}`, r.images.map((src, i) => imageCell(src, `Sample of seed ${r.seeds[i]}`, String(r.seeds[i])))));
  const shareRows: HTMLTableRowElement[] = [];
  for (const m of r.maps) {
    const labels = decodeLabels(m.labels);
    const space = spaceOfG(m.res);
    out.push(row('G', m.res, `G ${m.res}×${m.res}`, `k=${m.k}, ${r.metric}, ${fitText(m)}`,
      r.images.map((src, i) => mapCell(src, labels, i, m.res, space, `G ${m.res}×${m.res} clusters of seed ${r.seeds[i]}`))));
    shareRows.push(...sharesRows(space, null, m.res, m, `G ${m.res}×${m.res}`));
  }
  sharesTable.replaceChildren(tableHead(), el('tbody', {}, ...shareRows));
  const sampled = r.maps.filter((m) => m.sampled);
  fitNote.textContent = sampled.length
    ? `Large maps: K-means was fitted on a seeded random sample of ${sampled[0].fitPixels.toLocaleString()} pixels at ${sampled.map((m) => `${m.res}×${m.res}`).join(', ')} (more than that in the batch), then every pixel was assigned to its nearest centroid. Same inputs → same picture.`
    : 'K-means was fitted on every pixel of the batch (k-means++ with a fixed seed: same inputs → same picture).';
  fitNote.dataset.sampled = String(sampled.length > 0);

  const dShares: HTMLTableRowElement[] = [];
  if (r.decoder) {
    const d = r.decoder;
    const gSpace = spaceOfG(d.res);
    decoderCosine.hidden = false;
    decoderCosine.dataset.value = String(d.meanCosine);
    decoderCosine.textContent = `Mean cosine similarity between D's decoder output and G's ${d.res}×${d.res} features on this batch: ${d.meanCosine.toFixed(3)} (1 = D predicts G's features exactly).`;
    decoderNote.hidden = true;
    const fl = decodeLabels(d.fakesWithG.labels);
    out.push(row('D-fakes', d.res, `D decoder ${d.res}×${d.res}`, `on these fakes, labelled with G's ${d.res}×${d.res} centroids (same colours as G's row)`,
      r.images.map((src, i) => mapCell(src, fl, i, d.res, gSpace, `D decoder on seed ${r.seeds[i]}, G's clusters`))));
    const ol = decodeLabels(d.fakesOwn.labels);
    out.push(row('D-own', d.res, `D decoder ${d.res}×${d.res}`, `on these fakes, its own K-means (k=${d.fakesOwn.k}, ${fitText(d.fakesOwn)})`,
      r.images.map((src, i) => mapCell(src, ol, i, d.res, 'Down', `D decoder on seed ${r.seeds[i]}, own clusters`))));
    dShares.push(...sharesRows(gSpace, 'D-fakes', d.res, d.fakesWithG, "D on fakes, G's centroids"));
    dShares.push(...sharesRows('Down', 'D-own', d.res, d.fakesOwn, 'D on fakes, own K-means'));
    if (d.reals) {
      const rl = decodeLabels(d.reals.map.labels);
      out.push(row('reals', null, 'Real images', d.reals.source, d.reals.images.map((src, i) => imageCell(src, `Real image ${i + 1}`))));
      out.push(row('D-reals', d.res, `D decoder ${d.res}×${d.res}`, `on the real images, labelled with G's ${d.res}×${d.res} centroids`,
        d.reals.images.map((src, i) => mapCell(src, rl, i, d.res, gSpace, `D decoder on real image ${i + 1}, G's clusters`))));
      dShares.push(...sharesRows(gSpace, 'D-reals', d.res, d.reals.map, "D on reals, G's centroids"));
    } else if (d.realsNote) {
      out.push(el('p', { class: 'muted', id: 'reals-note' }, d.realsNote));
    }
  } else {
    decoderCosine.hidden = true;
    delete decoderCosine.dataset.value;
    decoderNote.hidden = false;
    decoderNote.textContent = r.decoderNote
      ? `No discriminator decoder: ${r.decoderNote}.`
      : 'No discriminator decoder for this snapshot.';
  }
  decoderShares.replaceChildren(tableHead(), el('tbody', {}, ...dShares));
  (document.getElementById('decoder-shares-section') as HTMLElement).hidden = dShares.length === 0;
  rows.replaceChildren(...out);
  runCount++;
  results.dataset.runCount = String(runCount);
  results.dataset.seeds = formatSeeds(r.seeds);
}

//#endregion

//#region requests

let segSeq = 0;

function chosenResolutions(): number[] {
  return [...resBox.querySelectorAll('vscode-checkbox')].filter((c) => (c as unknown as { checked: boolean }).checked).map((c) => Number((c as HTMLElement).dataset.res));
}

function readK(): number | null {
  const k = Number(kField.field.value);
  if (!Number.isInteger(k) || k < 2 || k > MAX_K) {
    setText(seedsError, `K must be a whole number between 2 and ${MAX_K}.`);
    kField.field.invalid = true;
    return null;
  }
  kField.field.invalid = false;
  return k;
}

function readSeeds(spec: string, max: number, field: { invalid: boolean }): string | null {
  const p = parseSeedSpec(spec, max);
  if ('error' in p) {
    setText(seedsError, p.error);
    field.invalid = true;
    return null;
  }
  field.invalid = false;
  return formatSeeds(p.seeds);
}

async function runSegment(): Promise<void> {
  if (!info || info.error) return;
  setText(seedsError, '');
  const seeds = readSeeds(seedsField.field.value, MAX_SEGMENT_SEEDS, seedsField.field);
  const k = readK();
  const resolutions = chosenResolutions();
  if (seeds === null || k === null) return;
  if (!resolutions.length) {
    setText(seedsError, 'Pick at least one resolution.');
    return;
  }
  Object.assign(ui, { seeds: seedsField.field.value, k, resolutions, psi: Number(psi.input.value), reals: realsBox.checked });
  persist();
  const seq = ++segSeq;
  setStatus('Clustering…', 'busy');
  progress.hidden = false;
  progress.value = 0;
  cancelBtn.hidden = false;
  try {
    const label = (info?.classes ?? 0) > 0 ? { label: ui.label ?? 0 } : {};
    const r = await channel.request('segment', { seeds, resolutions, k, metric: ui.metric, psi: ui.psi, reals: ui.reals, ...label }, { timeoutMs: 0 });
    if (seq !== segSeq) return;
    if ('cancelled' in r) {
      setStatus('Cancelled', 'cancelled');
      return;
    }
    showError(null);
    showResult(r);
    setStatus(`${r.seeds.length} samples clustered in ${formatMs(r.ms)} · ${r.backend}`, 'ready');
  } catch (e) {
    if (seq !== segSeq) return;
    showError(errorText(e));
    setStatus('Segmentation failed', 'error');
  } finally {
    if (seq === segSeq) {
      progress.hidden = true;
      cancelBtn.hidden = true;
    }
  }
}

let acrossSeq = 0;
let acrossCount = 0;

function acrossRow(item: AcrossItem): HTMLElement {
  const head = `${item.name}`;
  if (item.error || !item.images || !item.map) {
    return el('div', { class: 'map-row across-row', 'data-snapshot': item.name, 'data-kimg': String(item.kimg), 'data-error': 'true' },
      el('div', { class: 'row-head' }, el('span', { class: 'row-title' }, head), el('span', { class: 'muted' }, `kimg ${item.kimg}`)),
      el('div', { class: 'cells' }, el('span', { class: 'error-text' }, item.error ?? 'not clustered')));
  }
  const labels = decodeLabels(item.map.labels);
  const space = `A${item.index}`;
  const cells = item.images.map((src, i) => mapCell(src, labels, i, item.map!.res, space, `${item.name}: clusters of sample ${i + 1}`));
  const share = item.map.shares.map((s) => formatShare(s)).join(' · ');
  return el('div', { class: 'map-row across-row', 'data-snapshot': item.name, 'data-kimg': String(item.kimg) },
    el('div', { class: 'row-head' }, el('span', { class: 'row-title' }, `kimg ${item.kimg}`), el('span', { class: 'muted', title: `Shares: ${share}` }, item.name)),
    el('div', { class: 'cells' }, ...cells));
}

async function runAcross(): Promise<void> {
  if (!info || info.error) return;
  const seeds = readSeeds(acrossSeeds.field.value, MAX_ACROSS_SEEDS, acrossSeeds.field);
  const k = readK();
  if (seeds === null || k === null) return;
  ui.acrossSeeds = acrossSeeds.field.value;
  persist();
  const seq = ++acrossSeq;
  drawn = drawn.filter((d) => !acrossStrip.contains(d.canvas));
  acrossStrip.replaceChildren();
  acrossCount = 0;
  acrossStrip.dataset.count = '0';
  acrossStrip.style.setProperty('--cell', `${cellSize(info.resolution ?? 32, 48, 96)}px`);
  acrossCancel.hidden = false;
  acrossProgress.hidden = false;
  acrossProgress.value = 0;
  acrossStatus.textContent = 'Clustering every snapshot…';
  try {
    const r = await channel.request('across', { seeds, res: ui.acrossRes, k, metric: ui.metric, psi: Number(psi.input.value) }, { timeoutMs: 0 });
    if (seq !== acrossSeq) return;
    acrossStatus.textContent = 'cancelled' in r ? `Cancelled after ${acrossCount} snapshot${acrossCount === 1 ? '' : 's'}.` : `${r.done} snapshot${r.done === 1 ? '' : 's'} clustered${r.failed ? `, ${r.failed} failed` : ''}.`;
    acrossStrip.dataset.state = 'cancelled' in r ? 'cancelled' : 'done';
  } catch (e) {
    if (seq === acrossSeq) acrossStatus.textContent = `Failed: ${errorText(e)}`;
  } finally {
    if (seq === acrossSeq) {
      acrossCancel.hidden = true;
      acrossProgress.hidden = true;
    }
  }
}

channel.on('acrossItem', (item) => {
  acrossStrip.append(acrossRow(item));
  acrossCount++;
  acrossStrip.dataset.count = String(acrossCount);
});
channel.on('progress', (p) => {
  const bar = p.what === 'segment' ? progress : acrossProgress;
  if (p.total > 0) bar.value = p.done / p.total;
  if (p.what === 'segment') setStatus(`Clustering… ${p.message}`, 'busy');
  else acrossStatus.textContent = p.message;
});

//#endregion

//#region controls

runBtn.addEventListener('click', () => void runSegment());
for (const f of [seedsField.field, kField.field]) f.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') void runSegment(); });
cancelBtn.addEventListener('click', () => void channel.emit('cancel', { what: 'segment' }));
acrossRun.addEventListener('click', () => void runAcross());
acrossCancel.addEventListener('click', () => void channel.emit('cancel', { what: 'across' }));
viewerBtn.addEventListener('click', () => void channel.emit('openViewer', {}));
clearSel.addEventListener('click', () => {
  selection.clear();
  select('G0', null);
});
opacity.input.addEventListener('input', () => {
  ui.opacity = Number(opacity.input.value);
  applyView();
  persist();
});
psi.input.addEventListener('change', () => {
  ui.psi = Number(psi.input.value);
  persist();
});
realsBox.addEventListener('change', () => {
  ui.reals = realsBox.checked;
  persist();
});

//#endregion

//#region start

function showInfo(i: SegmentationInfo): void {
  info = i;
  ui.snapshot = i.dir;
  if (i.initialSeeds) {
    ui.seeds = i.initialSeeds;
    seedsField.field.value = i.initialSeeds;
  }
  title.textContent = `Segmentation · ${i.name}`;
  title.title = i.dir;
  document.title = `Segmentation · ${i.name}`;
  const bits = [i.runName];
  if (i.kimg !== null) bits.push(`kimg ${i.kimg}`);
  if (i.resolution !== null) bits.push(`${i.resolution}×${i.resolution}`);
  if (i.origin === 'official') bits.push('official pickle');
  if ((i.classes ?? 0) > 0) bits.push(`${i.classes} classes`);
  bits.push(i.ggdr ? `GGDR decoder at ${i.ggdr.res}×${i.ggdr.res}` : 'baseline (no GGDR decoder)');
  meta.textContent = bits.join(' · ');
  seedNote(seedsNote, i.origin);
  if (i.error) {
    showError(i.error);
    setStatus('Cannot load this snapshot', 'error');
    controls.hidden = true;
    viewControls.hidden = true;
    results.hidden = true;
    acrossSection.hidden = true;
    return;
  }
  classes.sync(ui, i.classes);
  // Resolutions: the saved choice where valid, else every block above 4×4.
  const valid = ui.resolutions.filter((r) => i.blockResolutions.includes(r));
  const chosen = valid.length ? valid : i.blockResolutions.filter((r) => r > 4);
  ui.resolutions = chosen.length ? chosen : i.blockResolutions.slice(-1);
  resBox.replaceChildren(el('span', { class: 'caption', 'aria-hidden': 'true' }, 'G resolutions'),
    ...i.blockResolutions.map((r) => {
      const c = checkbox(`res-${r}`, `${r}`, ui.resolutions.includes(r), `${r}×${r} feature maps of G`);
      c.dataset.res = String(r);
      return c;
    }));
  if (!i.blockResolutions.includes(ui.acrossRes)) ui.acrossRes = i.ggdr?.res && i.blockResolutions.includes(i.ggdr.res) ? i.ggdr.res : ui.resolutions[0];
  const acrossPick = radioGroup<string>('across-res', 'Resolution', i.blockResolutions.map((r) => [String(r), `${r}×${r}`] as const), String(ui.acrossRes), (v) => {
    ui.acrossRes = Number(v);
    persist();
  });
  acrossRes.replaceChildren(acrossPick.wrap);
  const loadable = i.snapshots.filter((s) => s.loadable).length;
  acrossRun.disabled = loadable === 0;
  acrossStatus.textContent = `${loadable} loadable snapshot${loadable === 1 ? '' : 's'} in ${i.runName}${i.snapshots.length > loadable ? ` (${i.snapshots.length - loadable} skipped: not loadable)` : ''}.`;
  if (ui.selected) selection.set(spaceOfG(ui.selected.res), ui.selected.cluster);
  applyView();
  persist();
  void runSegment();
}

applyView();
channel.request('hello', {}).then(showInfo, (e: unknown) => {
  showError(`Could not open the snapshot: ${errorText(e)}`);
  setStatus('Error', 'error');
});

//#endregion

(window as unknown as { ganSegmentation: unknown }).ganSegmentation = { ui, get info() { return info; }, selection };
