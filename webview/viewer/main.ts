/**
 * Checkpoint viewer webview: a sample grid from fixed seeds (editable list/range, columns), G or
 * G_ema, truncation ψ (towards w_avg), const/random noise, a latent interpolation strip between two
 * seeds (slerp or lerp in z), a large view of a clicked sample, and PNG export into the run folder.
 * Generation happens in the host's inference process; superseded renders are cancelled there.
 * Official pickles: seeds are numpy RandomState seeds as in the official generate.py (#seed-note says so);
 * conditional models get a class picker (#class). Loading a big checkpoint shows its progress, with Cancel.
 * Stable ids for end-to-end tests: #grid[data-render-count][data-psi][data-label] .sample[data-seed],
 * #interp-strip[data-render-count], #status[data-state], #error, #export-status[data-file], #seed-note[data-origin],
 * #modes-section[data-state] with figure.modes-chart (modesChart.ts), #modes-compute.
 * The mode-coverage section draws the class histogram of the snapshot's metric-modes* line, or offers to compute it.
 */
import '../common/base.css';
import './viewer.css';
import { connect, loadState, reportErrors, saveState } from '../common/channel';
import { fixButtonSpace, keepFocusBelow, roving, setText } from '../common/a11y';
import { el, snapshotChrome } from '../common/dom';
import { isViewerPanelState, type SnapshotPanelInfo, type ViewerGenParams, type ViewerHostApi, type ViewerPanelState, type ViewerWebviewApi } from '../../src/shared/protocol/panels/viewer';
import { MAX_INTERP_STEPS, MAX_SEEDS, formatSeeds, parseSeedSpec, type InterpMode, type NetworkName, type NoiseModeName, type SampleImage } from '../../src/shared/protocol/inference';
import { button, cellSize, classPicker, errorText, formatMs, radioGroup, seedNote, slider, textfield } from './ui';
import { modesChart } from './modesChart';
import { modesSampleCount, type ViewerModes } from '../../src/shared/modeCoverage';

const channel = connect<ViewerWebviewApi, ViewerHostApi>();
reportErrors((message) => void channel.emit('webviewError', { message }));

const saved = loadState(isViewerPanelState);
const ui: ViewerPanelState = saved ?? {
  v: 1,
  snapshot: '',
  seeds: '0-15',
  cols: 4,
  which: 'G_ema',
  psi: 1,
  noiseMode: 'const',
  noiseSeed: 0,
  interp: { a: 0, b: 1, steps: 9, mode: 'slerp', open: false },
};
let info: SnapshotPanelInfo | undefined;

function persist(): void {
  if (ui.snapshot) saveState(ui);
}

//#region DOM

const { title, meta, status, progress, errorBox, setStatus, showError } = snapshotChrome('Checkpoint viewer', 'Generation progress');

const seedsField = textfield('seeds', 'Seeds', ui.seeds, { placeholder: '0-15, 20, 31', title: `Seed list or ranges, e.g. 0-15 or 1,5,9 (at most ${MAX_SEEDS})` });
const seedsError = el('span', { id: 'seeds-error', class: 'error-text', role: 'alert' });
const colsField = textfield('cols', 'Columns', String(ui.cols), { type: 'number', min: 1, max: 64, size: 'xs' });
const which = radioGroup<NetworkName>('which', 'Network', [['G_ema', 'G_ema (EMA)'], ['G', 'G']], ui.which, (v) => {
  ui.which = v;
  changed();
});
const psi = slider('psi', 'Truncation ψ', { min: 0, max: 1.5, step: 0.05, value: ui.psi, title: 'w = w_avg + ψ·(w − w_avg): ψ < 1 moves samples towards the average w tracked during training' });
const noise = radioGroup<NoiseModeName>('noise', 'Noise', [['const', 'const'], ['random', 'random']], ui.noiseMode, (v) => {
  ui.noiseMode = v;
  reroll.disabled = v !== 'random';
  changed();
});
const reroll = button('reroll-noise', 'New noise', { secondary: true, title: 'Draw new random noise inputs' });
reroll.disabled = ui.noiseMode !== 'random';
const exportBtn = button('export', 'Export PNG', { title: 'Write this grid as a PNG into the run folder' });
const segBtn = button('open-segmentation', 'Cluster feature maps…', { secondary: true, title: 'K-means segmentation of the generator feature maps for these seeds' });
const exportStatus = el('span', { id: 'export-status', class: 'muted', 'aria-live': 'polite' });
const cancelBtn = button('cancel', 'Cancel', { secondary: true, title: 'Stop loading the checkpoint / rendering' });
cancelBtn.hidden = true;
// Conditional models only (filled in by showInfo): the class every sample is generated for.
const classes = classPicker('class', 'Class', (v) => {
  ui.label = v;
  changed(0);
});
classes.wrap.hidden = true;
const seedsNote = el('p', { id: 'seed-note', class: 'muted note' });
seedsNote.hidden = true;

const controls = el('div', { class: 'controls', role: 'group', 'aria-label': 'Sample grid settings' },
  seedsField.wrap, colsField.wrap, classes.wrap, which.wrap, psi.wrap, noise.wrap, reroll, exportBtn, segBtn);
const header = el('header', { class: 'toolbar' },
  el('div', { class: 'title-row' }, title, meta, status, progress, cancelBtn),
  controls, el('div', { class: 'subrow' }, seedsError, exportStatus));

// One Tab stop for the whole grid; the arrow keys move between samples (Up/Down by a row), Enter enlarges.
const grid = el('div', { id: 'grid', class: 'grid', role: 'group', 'data-render-count': '0', 'aria-label': 'Samples: arrow keys move between them, Enter enlarges one' });
roving(grid, 'button.sample', { orientation: 'grid', columns: () => Math.max(1, Math.min(ui.cols, lastImages.length || ui.cols)), key: (b) => b.dataset.seed ?? '' });
const gridSection = el('section', { id: 'grid-section', 'aria-labelledby': 'grid-heading' }, el('h2', { id: 'grid-heading' }, 'Samples'), seedsNote, grid);

const interpA = textfield('interp-a', 'From seed', String(ui.interp.a), { type: 'number', min: 0, size: 's' });
const interpB = textfield('interp-b', 'To seed', String(ui.interp.b), { type: 'number', min: 0, size: 's' });
const interpSteps = textfield('interp-steps', 'Steps', String(ui.interp.steps), { type: 'number', min: 2, max: MAX_INTERP_STEPS, size: 'xs' });
const interpMode = radioGroup<InterpMode>('interp-mode', 'Path in z', [['slerp', 'slerp'], ['lerp', 'lerp']], ui.interp.mode, (v) => {
  ui.interp.mode = v;
  persist();
  if (ui.interp.open) void renderInterp();
});
const interpRun = button('interp-run', 'Interpolate');
const interpError = el('span', { id: 'interp-error', class: 'error-text', role: 'alert' });
const interpStrip = el('div', { id: 'interp-strip', class: 'strip', role: 'group', 'data-render-count': '0', 'aria-label': 'Interpolation frames' });
const interpSection = el('section', { id: 'interp-section', 'aria-labelledby': 'interp-heading' },
  el('h2', { id: 'interp-heading' }, 'Latent interpolation'),
  el('div', { class: 'controls', role: 'group', 'aria-label': 'Interpolation settings' }, interpA.wrap, interpB.wrap, interpSteps.wrap, interpMode.wrap, interpRun, interpError),
  el('p', { class: 'muted note' },
    'Both ends are the z of the two seeds. slerp walks the great circle between them (every frame keeps the norm of a Gaussian sample); ',
    'lerp is the straight line in z (the middle frames have a smaller |z|). Each frame then goes through the mapping network, ψ and the noise setting above.'),
  interpStrip);

// Mode coverage of this snapshot: the class histogram of its newest metric-modes* line, else Compute (MNIST
// runs) or why the metric is undefined for the run. #modes-section[data-state] = loading | shown | none | unavailable | error.
const modesNote = el('p', { id: 'modes-note', class: 'muted note' });
const modesError = el('p', { id: 'modes-error', class: 'error-text', role: 'alert' });
const modesCharts = el('div', { id: 'modes-charts' });
const modesBtn = button('modes-compute', 'Compute mode coverage', { secondary: true, title: 'Classify generated samples with LeNet (Compute Metrics) and append the line to the run' });
modesBtn.hidden = true;
const modesSection = el('section', { id: 'modes-section', 'aria-labelledby': 'modes-heading', 'data-state': 'loading' },
  el('h2', { id: 'modes-heading' }, 'Mode coverage'), modesNote, modesCharts, el('div', { class: 'controls' }, modesBtn), modesError);

const detailImg = el('img', { id: 'detail-img', alt: '' });
const detailCaption = el('p', { id: 'detail-caption' });
const detailClose = button('detail-close', 'Close', { secondary: true });
const detail = el('dialog', { id: 'detail', 'aria-labelledby': 'detail-caption' }, detailCaption, detailImg, el('div', { class: 'dialog-actions' }, detailClose));
detailClose.addEventListener('click', () => detail.close());
detail.addEventListener('click', (e) => { if (e.target === detail) detail.close(); });
// Back to the sample that opened it (by seed: the grid may have re-rendered meanwhile).
detail.addEventListener('close', () => {
  const seed = detailCaption.dataset.seed;
  grid.querySelector<HTMLElement>(`.sample[data-seed="${seed}"]`)?.focus();
});

document.body.append(header, errorBox, el('main', {}, gridSection, modesSection, interpSection), detail);
keepFocusBelow(header);
fixButtonSpace();

//#endregion

//#region rendering

let renderSeq = 0;
let renderCount = 0;
let interpSeq = 0;
let interpCount = 0;
let lastImages: SampleImage[] = [];

function genParams(): ViewerGenParams {
  const p: ViewerGenParams = { which: ui.which, psi: ui.psi, noiseMode: ui.noiseMode, noiseSeed: ui.noiseSeed };
  if ((info?.classes ?? 0) > 0) p.label = ui.label ?? 0;
  return p;
}

/** Requests in flight that Cancel stops (the grid's and the interpolation's). */
const busy = new Set<'grid' | 'interp'>();
function setBusy(what: 'grid' | 'interp', on: boolean): void {
  if (on) busy.add(what);
  else busy.delete(what);
  cancelBtn.hidden = busy.size === 0;
}

function layoutGrid(): void {
  const res = info?.resolution ?? 32;
  grid.style.setProperty('--cell', `${cellSize(res)}px`);
  grid.style.setProperty('--cols', String(Math.max(1, Math.min(ui.cols, lastImages.length || ui.cols))));
}

function showGrid(images: SampleImage[]): void {
  lastImages = images;
  const cells = images.map((im) => {
    const img = el('img', { src: im.src, alt: `Sample of seed ${im.seed}`, draggable: 'false' });
    const b = el('button', { type: 'button', class: 'sample', 'data-seed': String(im.seed), title: `Seed ${im.seed} — click to enlarge`, 'aria-label': `Sample of seed ${im.seed}` }, img, el('span', { class: 'seed', 'aria-hidden': 'true' }, String(im.seed)));
    b.addEventListener('click', () => openDetail(im));
    return b;
  });
  grid.replaceChildren(...cells);
  layoutGrid();
}

function openDetail(im: SampleImage): void {
  detailImg.src = im.src;
  detailImg.alt = `Sample of seed ${im.seed}, enlarged`;
  const res = info?.resolution ?? 32;
  detailImg.style.setProperty('--size', `${Math.max(256, Math.min(512, res * Math.ceil(384 / res)))}px`);
  detailCaption.textContent = `Seed ${im.seed} · ψ ${ui.psi.toFixed(2)} · ${ui.which} · noise ${ui.noiseMode}`;
  detailCaption.dataset.seed = String(im.seed);
  detail.showModal();
  detailClose.focus();
}

function currentSeeds(): string | null {
  const r = parseSeedSpec(ui.seeds, MAX_SEEDS);
  if ('error' in r) {
    setText(seedsError, r.error);
    seedsField.field.invalid = true;
    return null;
  }
  setText(seedsError, '');
  seedsField.field.invalid = false;
  return formatSeeds(r.seeds);
}

async function renderGrid(): Promise<void> {
  if (!info || info.error) return;
  const seeds = currentSeeds();
  if (seeds === null) return;
  const seq = ++renderSeq;
  const psiNow = ui.psi;
  setStatus('Rendering…', 'busy');
  progress.hidden = false;
  progress.removeAttribute('value');
  setBusy('grid', true);
  try {
    const r = await channel.request('render', { seeds, ...genParams() }, { timeoutMs: 0 });
    if (seq !== renderSeq) return;
    if ('cancelled' in r) {
      setStatus('Cancelled', 'ready');
      return;
    }
    showError(null);
    showGrid(r.images);
    renderCount++;
    grid.dataset.renderCount = String(renderCount);
    grid.dataset.psi = String(psiNow);
    grid.dataset.which = ui.which;
    grid.dataset.seeds = seeds;
    if (ui.label !== undefined && (info.classes ?? 0) > 0) grid.dataset.label = String(ui.label);
    else delete grid.dataset.label;
    setStatus(`${r.images.length} sample${r.images.length === 1 ? '' : 's'} in ${formatMs(r.ms)}${r.loaded ? ' (checkpoint loaded)' : ''} · ${r.backend}`, 'ready');
  } catch (e) {
    if (seq !== renderSeq) return;
    showError(errorText(e));
    setStatus('Render failed', 'error');
  } finally {
    if (seq === renderSeq) {
      progress.hidden = true;
      setBusy('grid', false);
    }
  }
}

function readInterp(): { a: number; b: number; steps: number } | null {
  const a = Number(interpA.field.value), b = Number(interpB.field.value), steps = Number(interpSteps.field.value);
  const okSeed = (v: number) => Number.isInteger(v) && v >= 0 && v <= 2 ** 32 - 1;
  if (!okSeed(a) || !okSeed(b)) {
    setText(interpError, 'Seeds must be whole numbers ≥ 0.');
    return null;
  }
  if (!Number.isInteger(steps) || steps < 2 || steps > MAX_INTERP_STEPS) {
    setText(interpError, `Steps must be between 2 and ${MAX_INTERP_STEPS}.`);
    return null;
  }
  setText(interpError, '');
  return { a, b, steps };
}

async function renderInterp(): Promise<void> {
  if (!info || info.error) return;
  const v = readInterp();
  if (!v) return;
  Object.assign(ui.interp, v, { open: true });
  persist();
  const seq = ++interpSeq;
  interpStrip.setAttribute('aria-busy', 'true');
  setBusy('interp', true);
  try {
    const r = await channel.request('interpolate', { seedA: v.a, seedB: v.b, steps: v.steps, mode: ui.interp.mode, ...genParams() }, { timeoutMs: 0 });
    if ('cancelled' in r || seq !== interpSeq) return;
    const frames = r.frames.map((f, i) => el('figure', { class: 'frame', 'data-t': f.t.toFixed(3) },
      el('img', { src: f.src, alt: `Frame ${i + 1} of ${r.frames.length}, t = ${f.t.toFixed(2)}` }),
      el('figcaption', {}, i === 0 ? `seed ${v.a}` : i === r.frames.length - 1 ? `seed ${v.b}` : `t=${f.t.toFixed(2)}`)));
    interpStrip.replaceChildren(...frames);
    interpStrip.style.setProperty('--cell', `${cellSize(info.resolution ?? 32, 64, 128)}px`);
    interpCount++;
    interpStrip.dataset.renderCount = String(interpCount);
    interpStrip.dataset.mode = r.mode;
  } catch (e) {
    if (seq === interpSeq) setText(interpError, errorText(e));
  } finally {
    if (seq === interpSeq) {
      interpStrip.removeAttribute('aria-busy');
      setBusy('interp', false);
    }
  }
}

let renderTimer: ReturnType<typeof setTimeout> | undefined;
/** Something generation depends on changed: re-render soon (a newer render cancels the older one). */
function changed(delay = 120): void {
  persist();
  clearTimeout(renderTimer);
  renderTimer = setTimeout(() => {
    void renderGrid();
    if (ui.interp.open) void renderInterp();
  }, delay);
}

//#endregion

//#region controls

seedsField.field.addEventListener('input', () => {
  ui.seeds = seedsField.field.value;
  if (currentSeeds() !== null) changed(300);
});
colsField.field.addEventListener('input', () => {
  const n = Number(colsField.field.value);
  if (!Number.isInteger(n) || n < 1 || n > 64) return;
  ui.cols = n;
  persist();
  layoutGrid();
});
psi.input.addEventListener('input', () => {
  ui.psi = Number(psi.input.value);
  changed(60);
});
reroll.addEventListener('click', () => {
  ui.noiseSeed = (ui.noiseSeed + 1) % 2 ** 31;
  changed(0);
});
exportBtn.addEventListener('click', () => void exportGrid());
/** Saves the current grid as a PNG through the host; failures are shown in the panel. */
async function exportGrid(): Promise<void> {
  const seeds = currentSeeds();
  if (seeds === null || !info || info.error) return;
  exportBtn.disabled = true;
  exportStatus.textContent = 'Exporting…';
  try {
    const r = await channel.request('exportGrid', { seeds, cols: ui.cols, ...genParams() }, { timeoutMs: 0 });
    if ('cancelled' in r) return;
    exportStatus.textContent = `Saved ${r.file.split(/[\\/]/).pop()}`;
    exportStatus.dataset.file = r.file;
    exportStatus.title = r.file;
  } catch (e) {
    exportStatus.textContent = '';
    showError(`Export failed: ${errorText(e)}`);
  } finally {
    exportBtn.disabled = false;
  }
}
segBtn.addEventListener('click', () => {
  const seeds = currentSeeds();
  void channel.emit('openSegmentation', { seeds: seeds ?? '0-7' });
});
interpRun.addEventListener('click', () => void renderInterp());
for (const f of [interpA.field, interpB.field, interpSteps.field]) {
  f.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') void renderInterp(); });
}

cancelBtn.addEventListener('click', () => {
  for (const what of busy) void channel.emit('cancel', { what });
});

channel.on('progress', (p) => {
  if (p.what !== 'grid' || p.total <= 0) return;
  progress.hidden = false;
  progress.value = p.done / p.total;
  // Loading a big checkpoint takes seconds: say so (the process's "loading: …" messages).
  if (p.message?.startsWith('loading')) setStatus(`${p.message[0].toUpperCase()}${p.message.slice(1)}…`, 'busy');
  else if (p.message) setStatus(`Rendering ${Math.round((100 * p.done) / p.total)}%…`, 'busy');
});

//#endregion

//#region mode coverage

function showModes(v: ViewerModes): void {
  modesCharts.replaceChildren(...v.entries.map(modesChart));
  const when = v.entries[0] ? new Date(v.entries[0].timestamp * 1000).toLocaleString() : '';
  if (v.unavailable) {
    modesNote.textContent = v.unavailable;
  } else if (v.entries.length) {
    modesNote.textContent = `From the run's metric-${v.entries[0].metric}.jsonl (${when}): the share of generated samples (seeds 0…N−1, G_ema) ` +
      'LeNet puts in each digit class; the dashed rule is 1% (a class counts as covered), the ticks are the dataset\'s shares.';
  } else {
    modesNote.textContent = `No ${v.metric} line for this snapshot yet. Compute classifies ${modesSampleCount(v.metric)?.toLocaleString('en-US') ?? 'its'} ` +
      `samples of G_ema with LeNet and appends the result to metric-${v.metric}.jsonl.`;
  }
  setText(modesError, v.readError ?? '');
  modesBtn.hidden = !!v.unavailable;
  modesBtn.textContent = v.entries.length ? 'Recompute' : 'Compute mode coverage';
  modesSection.dataset.state = v.entries.length ? 'shown' : v.unavailable ? 'unavailable' : 'none';
}

async function loadModes(): Promise<void> {
  try {
    showModes(await channel.request('modes', {}));
  } catch (e) {
    setText(modesError, `Could not read the mode-coverage lines: ${errorText(e)}`);
    modesSection.dataset.state = 'error';
  }
}

modesBtn.addEventListener('click', () => void computeModes());
/** Computes the modes metric through Compute Metrics (its notification shows progress and Cancel), then redraws. */
async function computeModes(): Promise<void> {
  modesBtn.disabled = true;
  setText(modesError, '');
  const before = modesNote.textContent;
  modesNote.textContent = 'Computing… (progress and Cancel in the notification)';
  try {
    const r = await channel.request('computeModes', {}, { timeoutMs: 0 });
    if ('cancelled' in r) {
      modesNote.textContent = before;
      await loadModes();
    } else {
      showModes(r);
    }
  } catch (e) {
    modesNote.textContent = before;
    setText(modesError, errorText(e));
  } finally {
    modesBtn.disabled = false;
  }
}

//#endregion

//#region start

function showInfo(i: SnapshotPanelInfo): void {
  info = i;
  ui.snapshot = i.dir;
  persist();
  title.textContent = i.name;
  title.title = i.dir;
  document.title = `Checkpoint · ${i.name}`;
  const bits = [i.runName];
  if (i.kimg !== null) bits.push(`kimg ${i.kimg}`);
  if (i.resolution !== null) bits.push(`${i.resolution}×${i.resolution}${i.channels === 3 ? ' RGB' : i.channels === 1 ? ' gray' : ''}`);
  if (i.preset) bits.push(i.preset);
  if (i.origin === 'official') bits.push('official StyleGAN2-ADA/GGDR pickle');
  if ((i.classes ?? 0) > 0) bits.push(`${i.classes} classes`);
  bits.push(i.ggdr ? `GGDR (res ${i.ggdr.res})` : 'baseline (no GGDR)');
  meta.textContent = bits.join(' · ');
  seedNote(seedsNote, i.origin);
  if (i.error) {
    showError(i.error);
    setStatus('Cannot load this snapshot', 'error');
    controls.hidden = true;
    interpSection.hidden = true;
    gridSection.hidden = true;
    modesSection.hidden = true;
    return;
  }
  classes.sync(ui, i.classes);
  layoutGrid();
  void renderGrid();
  void loadModes();
  if (ui.interp.open) void renderInterp();
}

channel.request('hello', {}).then(showInfo, (e: unknown) => {
  showError(`Could not open the snapshot: ${errorText(e)}`);
  setStatus('Error', 'error');
});

//#endregion

(window as unknown as { ganViewer: unknown }).ganViewer = { ui, get info() { return info; } };
