/**
 * Compare Runs webview: overlaid curves of one scalar or metric per run (aligned by kimg, the loss
 * panel's chart and smoothing), the runs × key-figures table, the option diff, and sample grids side by
 * side (whole grids, or the same seeds' cells: cropped from each of our runs' grids, rendered from the
 * .pkl snapshots of official runs).
 * Stable ids for end-to-end tests: #runs-table tr[data-run] td[data-col][data-value],
 * #option-diff tr[data-key] td[data-run][data-value], #scalar, #series-legend button[data-run],
 * #hover-readout, #samples figure[data-run][data-kimg], #compare-status[data-runs].
 */
import 'uplot/dist/uPlot.min.css';
import '../common/base.css';
import '../common/chart.css';
import './compare.css';
import { connect, loadState, reportErrors, saveState } from '../common/channel';
import { keepFocusBelow, roving, setText } from '../common/a11y';
import { el } from '../common/dom';
import { DEFAULT_SMOOTHING } from '../../src/shared/protocol/panels/common';
import { isComparePanelState, type CompareCells, type CompareColumn, type CompareHostApi, type CompareInfo, type CompareRunInfo, type CompareSeries, type ComparePanelState, type CompareWebviewApi } from '../../src/shared/protocol/panels/compare';
import { formatSeeds, parseSeedSpec } from '../../src/shared/protocol/inference';
import { PALETTE_HEX } from '../../src/shared/palette';
import { GroupChart, type ChartSeries, type HoverInfo } from '../loss/chart';
import { formatValue, smooth } from '../loss/series';
import { higherIsBetter } from '../../src/shared/modeCoverage';

const channel = connect<CompareWebviewApi, CompareHostApi>({ timeoutMs: 120_000 });
reportErrors((message) => void channel.emit('webviewError', { message }));

const saved = loadState(isComparePanelState);
const ui = {
  runDirs: saved?.runDirs ?? ([] as string[]),
  scalar: saved?.scalar ?? '',
  smoothing: saved?.smoothing ?? DEFAULT_SMOOTHING,
  log: saved?.log ?? false,
  gridKimg: saved?.gridKimg ?? 'latest',
  gridMode: saved?.gridMode ?? ('grids' as 'grids' | 'cells'),
  seeds: saved?.seeds ?? '0-7',
  hidden: new Set(saved?.hidden ?? []),
};

function persist(): void {
  if (!ui.runDirs.length) return;
  const s: ComparePanelState = {
    v: 1, runDirs: ui.runDirs, scalar: ui.scalar, smoothing: ui.smoothing, log: ui.log,
    gridKimg: ui.gridKimg, gridMode: ui.gridMode, seeds: ui.seeds, hidden: [...ui.hidden],
  };
  saveState(s);
}

let info: CompareInfo | undefined;
let series: { key: string; runs: CompareSeries[] } | undefined;

//#region DOM skeleton

const title = el('h1', { id: 'compare-title' }, 'Compare runs');
const status = el('span', { id: 'compare-status', class: 'muted', role: 'status', 'data-runs': '0' }, 'Loading…');
const exportCsv = el('button', { id: 'export-csv', type: 'button', class: 'button secondary' }, 'Export CSV…');
const exportMd = el('button', { id: 'export-md', type: 'button', class: 'button secondary' }, 'Export Markdown…');
const errorsEl = el('div', { id: 'load-errors', class: 'error-text', role: 'alert', hidden: '' });
const header = el('header', { class: 'toolbar' },
  el('div', { class: 'title-row' }, title, status, el('span', { class: 'spacer' }), exportCsv, exportMd), errorsEl);

// Curves.
const scalarSelect = el('select', { id: 'scalar', 'aria-label': 'Scalar or metric to compare' });
const smoothingInput = el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Smoothing weight (TensorBoard-style exponential moving average)' });
smoothingInput.value = String(ui.smoothing);
const smoothingValue = el('output', { id: 'smoothing-value', for: 'smoothing' }, ui.smoothing.toFixed(2));
const logBox = el('input', { id: 'log-scale', type: 'checkbox' });
logBox.checked = ui.log;
const resetZoom = el('button', { id: 'reset-zoom', type: 'button', class: 'button secondary' }, 'Reset zoom');
const sourceNote = el('p', { id: 'series-source', class: 'muted small' });
// Run toggles: one Tab stop, arrow keys between them.
const legend = el('ul', { id: 'series-legend', class: 'legend', role: 'toolbar', 'aria-label': 'Runs in the chart (shown or hidden)' });
roving(legend, 'button.series-toggle', { orientation: 'horizontal', key: (b) => b.dataset.run ?? '' });
const chartEl = el('div', { id: 'chart', class: 'chart', role: 'img', 'aria-label': 'Chosen scalar of every run against kimg' });
// Live only while the chart has keyboard focus (mouse hover would flood a screen reader).
const hoverReadout = el('div', { id: 'hover-readout', class: 'readout muted', 'aria-live': 'off' }, 'Hover the chart (or focus it and use the arrow keys) to read values; drag to zoom, double-click to reset.');
chartEl.addEventListener('focus', () => hoverReadout.setAttribute('aria-live', 'polite'));
chartEl.addEventListener('blur', () => hoverReadout.setAttribute('aria-live', 'off'));
const curves = el('section', { id: 'curves', 'aria-labelledby': 'curves-h' },
  el('h2', { id: 'curves-h' }, 'Curves'),
  el('div', { class: 'controls' },
    el('label', { class: 'control', for: 'scalar' }, 'Scalar ', scalarSelect),
    el('label', { class: 'control', for: 'smoothing' }, 'Smoothing ', smoothingInput, smoothingValue),
    el('label', { class: 'control', for: 'log-scale' }, logBox, ' log scale'),
    resetZoom),
  legend, chartEl, hoverReadout, sourceNote);

// Table, option diff, samples.
const table = el('table', { id: 'runs-table', class: 'data', 'aria-label': 'Runs and their key figures' });
const tableSection = el('section', { id: 'figures', 'aria-labelledby': 'figures-h' },
  el('h2', { id: 'figures-h' }, 'Key figures'),
  el('p', { class: 'muted small' }, 'Final = last evaluated snapshot; best = lowest FID/KID (highest for IS/precision/recall); @kimg = where it was reached. Best values are marked.'),
  // A wide table scrolls sideways; Chromium then makes a scroller without focusable content a Tab stop: name it.
  el('div', { class: 'scroll', role: 'region', 'aria-label': 'Key figures table' }, table));
const diffSummary = el('p', { id: 'option-diff-summary', class: 'muted small' });
const diffTable = el('table', { id: 'option-diff', class: 'data', 'aria-label': 'Options that differ between the runs' });
const diffSection = el('section', { id: 'options', 'aria-labelledby': 'options-h' },
  el('h2', { id: 'options-h' }, 'Options that differ'), diffSummary, el('div', { class: 'scroll', role: 'region', 'aria-label': 'Option differences table' }, diffTable));

const modeSelect = el('select', { id: 'sample-mode', 'aria-label': 'How to show samples' },
  el('option', { value: 'grids' }, 'Whole grids'), el('option', { value: 'cells' }, 'Same seeds, cell by cell'));
modeSelect.value = ui.gridMode;
const kimgSelect = el('select', { id: 'grid-kimg', 'aria-label': 'Which grid of each run' });
const seedsInput = el('input', { id: 'cell-seeds', type: 'text', size: '14', 'aria-label': 'Seeds (cells) to show', spellcheck: 'false' });
seedsInput.value = ui.seeds;
const seedsError = el('span', { id: 'cell-seeds-error', class: 'error-text', role: 'alert' });
const seedsLabel = el('label', { class: 'control', for: 'cell-seeds' }, 'Seeds ', seedsInput, seedsError);
const samples = el('div', { id: 'samples' });
const samplesSection = el('section', { id: 'samples-section', 'aria-labelledby': 'samples-h' },
  el('h2', { id: 'samples-h' }, 'Samples'),
  el('div', { class: 'controls' },
    el('label', { class: 'control', for: 'sample-mode' }, 'Show ', modeSelect),
    el('label', { class: 'control', for: 'grid-kimg' }, 'Grid ', kimgSelect),
    seedsLabel),
  el('p', { class: 'muted small' }, 'Our runs draw grid cell i from seed i, so the same cell shows the same latent in every run (at the same resolution). ' +
    "Official runs' whole grids are their own saved grids; their same-seed cells are rendered from their .pkl snapshots (numpy RandomState seeds, as generate.py)."),
  samples);

document.body.append(header, el('main', {}, curves, tableSection, diffSection, samplesSection));
keepFocusBelow(header);

//#endregion

//#region colours

const colorOf = (i: number) => PALETTE_HEX[i % PALETTE_HEX.length];
function runIndex(name: string): number {
  return info ? info.runs.findIndex((r) => r.name === name) : -1;
}

//#endregion

//#region chart

const chart = new GroupChart({ groupId: 'compare', label: 'Chosen scalar of every run against kimg', container: chartEl, xAxis: 'kimg', log: ui.log, height: 300, onHover: showHover });

/** Aligns every run's compact (kimg, value) points on the union of their kimg values; smoothing per run first. */
function chartData(): { x: number[]; series: ChartSeries[] } {
  if (!series || !info) return { x: [], series: [] };
  const isMetric = series.key.startsWith('Metrics/');
  const xs = new Set<number>();
  for (const r of series.runs) for (const k of r.kimg) xs.add(k);
  const x = [...xs].sort((a, b) => a - b);
  const at = new Map(x.map((v, i) => [v, i]));
  const out: ChartSeries[] = [];
  for (const r of series.runs) {
    const i = runIndex(r.run);
    if (i < 0) continue;
    const raw = new Array<number | null>(x.length).fill(null);
    const sm = isMetric || ui.smoothing <= 0 ? null : new Array<number | null>(x.length).fill(null);
    const smoothed = sm ? smooth(r.value, ui.smoothing) : null;
    r.kimg.forEach((k, j) => {
      const idx = at.get(k)!;
      raw[idx] = r.value[j];
      if (sm && smoothed) sm[idx] = smoothed[j];
    });
    out.push({ name: r.run, color: colorOf(i), raw, smoothed: sm, hidden: ui.hidden.has(r.run), points: isMetric || r.kimg.length < 30 });
  }
  return { x, series: out };
}

function renderChart(): void {
  chart.update(chartData());
  if (!series) return;
  const parts: string[] = [];
  for (const r of series.runs) {
    if (!r.sourceKey) parts.push(`${r.run}: not logged`);
    else if (r.sourceKey !== series.key && !series.key.startsWith('Metrics/')) parts.push(`${r.run}: ${r.sourceKey}`);
  }
  sourceNote.textContent = parts.length ? `Read as: ${parts.join(' · ')}` : '';
}

function renderLegend(): void {
  if (!info) return;
  const counts = new Map(series?.runs.map((r) => [r.run, r.kimg.length]) ?? []);
  legend.replaceChildren(...info.runs.map((r, i) => {
    const n = counts.get(r.name) ?? 0;
    const b = el('button', { type: 'button', class: 'series-toggle', 'data-run': r.name, 'data-points': String(n), 'aria-pressed': String(!ui.hidden.has(r.name)), title: `Show/hide ${r.name}` },
      el('span', { class: 'swatch', 'aria-hidden': 'true' }), r.name, el('span', { class: 'muted' }, ` ${ggdrText(r)}${series && n === 0 ? ' · no data' : ''}`));
    (b.firstChild as HTMLElement).style.background = colorOf(i);
    b.addEventListener('click', () => {
      if (ui.hidden.has(r.name)) ui.hidden.delete(r.name);
      else ui.hidden.add(r.name);
      b.setAttribute('aria-pressed', String(!ui.hidden.has(r.name)));
      persist();
      renderChart();
    });
    return el('li', { role: 'none' }, b);
  }));
}

function showHover(h: HoverInfo | null): void {
  if (!h) return;
  const parts: Node[] = [el('span', { class: 'x', 'data-x': String(h.x) }, `kimg ${formatValue(h.x)}`)];
  for (const v of h.values) {
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = v.color;
    const text = v.smoothed !== null ? `${v.name} ${formatValue(v.raw)} (smoothed ${formatValue(v.smoothed)})` : `${v.name} ${formatValue(v.raw)}`;
    parts.push(el('span', { class: 'value', 'data-run': v.name, 'data-value': v.raw === null ? '' : String(v.raw) }, sw, text));
  }
  hoverReadout.classList.remove('muted');
  hoverReadout.replaceChildren(...parts);
}

let seriesReq = 0;
async function loadSeries(): Promise<void> {
  if (!ui.scalar) return;
  const id = ++seriesReq;
  chartEl.setAttribute('aria-busy', 'true');
  try {
    const r = await channel.request('series', { key: ui.scalar });
    if (id !== seriesReq) return; // a newer choice superseded this reply
    series = r;
    chartEl.dataset.key = r.key;
    chart.setLabel(`${r.key} of every run`);
    renderLegend();
    renderChart();
  } catch (e) {
    sourceNote.textContent = `Could not read ${ui.scalar}: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    if (id === seriesReq) chartEl.removeAttribute('aria-busy');
  }
}

function renderScalars(): void {
  if (!info) return;
  const keys = info.scalars.map((s) => s.key);
  if (!keys.includes(ui.scalar)) ui.scalar = defaultScalar();
  const n = info.runs.length;
  scalarSelect.replaceChildren(...info.scalars.map((s) =>
    el('option', { value: s.key }, s.runs < n ? `${s.label} (${s.runs} of ${n} runs)` : s.label)));
  scalarSelect.value = ui.scalar;
}

function defaultScalar(): string {
  const sc = info?.scalars ?? [];
  const max = Math.max(0, ...sc.map((s) => s.runs));
  return sc.find((s) => s.key.startsWith('Metrics/fid') && s.runs === max)?.key ?? sc.find((s) => s.key === 'Loss/G/loss')?.key ?? sc[0]?.key ?? '';
}

//#endregion

//#region table and option diff

function ggdrText(r: CompareRunInfo): string {
  return r.ggdr === undefined ? '' : r.ggdr ? 'GGDR' : 'baseline';
}

function cellText(col: CompareColumn, v: number | string | null): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  switch (col.format) {
    case 'int': return String(Math.round(v));
    case 'kimg': return String(Number(v.toFixed(3)));
    case 'sec': return v.toFixed(1);
    case 'metric': return formatValue(Number(v.toPrecision(5)));
    default: return formatValue(v);
  }
}

function renderTable(): void {
  if (!info) return;
  const cols = info.table.columns;
  const hasMetrics = cols.some((c) => c.metric);
  const top: HTMLTableCellElement[] = [];
  const sub: HTMLTableCellElement[] = [];
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    if (!c.metric) {
      top.push(el('th', { scope: 'col', rowspan: hasMetrics ? '2' : '1', title: c.title ?? '', 'data-col': c.id }, c.label));
      continue;
    }
    let span = 0;
    while (i + span < cols.length && cols[i + span].metric === c.metric) span++;
    top.push(el('th', { scope: 'colgroup', colspan: String(span), class: 'group' }, c.metric));
    for (let j = 0; j < span; j++) {
      const cj = cols[i + j];
      sub.push(el('th', { scope: 'col', title: cj.title ?? '', 'data-col': cj.id, class: 'num' }, cj.short ?? cj.label));
    }
    i += span - 1;
  }
  // Best value per metric column among the runs (marked in the table).
  const bestRow = new Map<string, string>();
  for (const c of cols) {
    if (c.format !== 'metric' || !c.id.endsWith('.best')) continue;
    const up = higherIsBetter(c.id.slice(0, -'.best'.length)); // the id names the series; c.metric may be a display group
    let best: { run: string; v: number } | undefined;
    for (const r of info.table.rows) {
      const v = r.cells[c.id];
      if (typeof v === 'number' && (!best || (up ? v > best.v : v < best.v))) best = { run: r.run, v };
    }
    if (best && info.table.rows.length > 1) bestRow.set(c.id, best.run);
  }
  const body = info.table.rows.map((r) => {
    const i = runIndex(r.run);
    const tds = cols.map((c) => {
      const v = r.cells[c.id] ?? null;
      const td = el('td', { 'data-col': c.id, 'data-value': v === null ? '' : String(v), class: c.kind === 'number' ? 'num' : '' });
      if (c.id === 'run') {
        const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
        sw.style.background = colorOf(i);
        const link = el('button', { type: 'button', class: 'link', title: `Open the loss curves of ${r.run}` }, String(v));
        link.addEventListener('click', () => void channel.emit('openLossCurves', { run: r.run }));
        td.append(sw, link);
      } else {
        td.textContent = cellText(c, v);
        if (bestRow.get(c.id) === r.run) {
          td.classList.add('best');
          td.title = 'best among these runs';
        }
      }
      if (c.id === 'state') td.dataset.state = String(v);
      return td;
    });
    return el('tr', { 'data-run': r.run }, ...tds);
  });
  const thead = hasMetrics ? el('thead', {}, el('tr', {}, ...top), el('tr', {}, ...sub)) : el('thead', {}, el('tr', {}, ...top));
  table.replaceChildren(thead, el('tbody', {}, ...body));
}

function renderOptionDiff(): void {
  if (!info) return;
  const d = info.optionDiff;
  const mixed = info.runs.some((r) => r.origin === 'gan-inspector') && info.runs.some((r) => r.origin !== 'gan-inspector');
  const bits = [`${d.rows.length} of ${d.totalKeys} options differ`];
  if (d.rows.length === 0 && d.runs.length > 1) bits[0] = mixed ? 'No option differs between runs of the same trainer' : `All ${d.totalKeys} options are the same`;
  if (d.runs.length < 2) bits[0] = 'Fewer than two runs have options to compare';
  for (const m of d.missing) bits.push(`${m.run}: ${m.reason}`);
  if (mixed) bits.push('GAN Inspector and official runs name their options differently: each option is compared among the runs of the trainer that has it (n/a for the others)');
  diffSummary.textContent = bits.join(' · ');
  diffSummary.dataset.rows = String(d.rows.length);
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Option'), ...d.runs.map((r) => el('th', { scope: 'col', 'data-run': r }, r)));
  const rows = d.rows.map((row) => el('tr', { 'data-key': row.key },
    el('th', { scope: 'row' }, row.key),
    ...row.values.map((v) => el('td', { 'data-run': v.run, 'data-value': v.present ? v.text : '', 'data-present': String(v.present), ...(v.na ? { 'data-na': 'true' } : {}), class: v.present ? '' : 'muted' }, v.text))));
  diffTable.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  diffTable.hidden = d.rows.length === 0;
}

//#endregion

//#region samples

function gridFor(r: CompareRunInfo): CompareRunInfo['grids'][number] | undefined {
  if (!r.grids.length) return undefined;
  if (ui.gridKimg === 'latest') return r.grids[r.grids.length - 1];
  const want = Number(ui.gridKimg);
  // The newest grid at or before the chosen kimg (runs snapshot at different ticks).
  let pick: CompareRunInfo['grids'][number] | undefined;
  for (const g of r.grids) if (g.kimg !== null && g.kimg <= want + 1e-9) pick = g;
  return pick;
}

function renderKimgOptions(): void {
  if (!info) return;
  const ks = [...new Set(info.runs.flatMap((r) => [...r.grids.map((g) => g.kimg).filter((k): k is number => k !== null), ...(r.pickles ?? [])]))].sort((a, b) => a - b);
  if (ui.gridKimg !== 'latest' && !ks.includes(Number(ui.gridKimg))) ui.gridKimg = 'latest';
  kimgSelect.replaceChildren(el('option', { value: 'latest' }, 'latest of each run'), ...ks.map((k) => el('option', { value: String(k) }, `kimg ${formatValue(k)}`)));
  kimgSelect.value = ui.gridKimg;
}

const images = new Map<string, Promise<HTMLImageElement>>();
function loadImage(uri: string): Promise<HTMLImageElement> {
  let p = images.get(uri);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`could not load ${uri}`));
      img.src = uri;
    });
    images.set(uri, p);
  }
  return p;
}

function renderSamples(): void {
  if (!info) return;
  seedsLabel.hidden = ui.gridMode !== 'cells';
  let seeds: number[] = [];
  if (ui.gridMode === 'cells') {
    const parsed = parseSeedSpec(ui.seeds, 64);
    setText(seedsError, 'error' in parsed ? parsed.error : '');
    seedsInput.setAttribute('aria-invalid', String('error' in parsed));
    seeds = 'error' in parsed ? [] : parsed.seeds;
  }
  samples.className = ui.gridMode === 'cells' ? 'cells' : 'grids';
  samples.replaceChildren(...info.runs.map((r, i) => {
    const g = gridFor(r);
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = colorOf(i);
    const cap = el('figcaption', {}, sw, el('strong', {}, r.name), ` ${ggdrText(r)}`,
      el('span', { class: 'muted' }, g ? ` · ${g.file}${g.snapshot ? ' (snapshot)' : ''}` : ''));
    const fig = el('figure', { 'data-run': r.name, 'data-kimg': g?.kimg === null || !g ? '' : String(g.kimg), 'data-file': g?.file ?? '' }, cap);
    if (ui.gridMode === 'cells' && !r.seedCells && r.pickles?.length) {
      fig.append(pickleStrip(r, seeds));
    } else if (!g) {
      fig.append(el('p', { class: 'muted' }, r.grids.length ? `No grid at or before kimg ${ui.gridKimg}.` : 'No fakes*.png grid yet.'));
    } else if (ui.gridMode === 'cells' && r.seedCells && r.cellPx) {
      fig.append(cellStrip(r, g.uri, r.cellPx, seeds));
    } else {
      const img = el('img', { src: g.uri, alt: `${r.name}: ${g.file}`, class: 'grid' });
      if (r.cellPx) img.dataset.cellPx = String(r.cellPx);
      fig.append(img);
      if (ui.gridMode === 'cells') fig.append(el('p', { class: 'muted small' }, r.seedCells ? 'Cell size unknown; showing the whole grid.' : 'Official grid: cells are not seeds, so it is shown whole.'));
    }
    if (r.note) fig.append(el('p', { class: 'muted small note' }, r.note));
    return fig;
  }));
}

/** Rendered cells by run|kimg|seeds (info refreshes redraw the samples; the images stay). */
const renderedCells = new Map<string, Promise<CompareCells | { cancelled: true }>>();

/**
 * The given seeds rendered from an official run's .pkl snapshot at or before the chosen kimg (by the
 * host's inference process): the same seeds in every official run, numpy RandomState seeds as generate.py.
 */
function pickleStrip(r: CompareRunInfo, seeds: number[]): HTMLElement {
  const strip = el('div', { class: 'cell-strip pickle-strip', 'aria-busy': 'true' });
  const note = el('p', { class: 'muted small pickle-note', role: 'status' }, 'Rendering from the .pkl snapshot…');
  const wrap = el('div', {}, strip, note);
  if (!seeds.length) return wrap;
  const spec = formatSeeds(seeds);
  const key = `${r.name}|${ui.gridKimg}|${spec}`;
  let p = renderedCells.get(key);
  if (!p) {
    p = channel.request('renderCells', { run: r.name, kimg: ui.gridKimg, seeds: spec }, { timeoutMs: 0 });
    renderedCells.set(key, p);
    p.then((x) => { if ('cancelled' in x) renderedCells.delete(key); }, () => renderedCells.delete(key));
  }
  p.then((res) => {
    if ('cancelled' in res) return;
    strip.replaceChildren(...res.images.map((im) => {
      const img = el('img', { src: im.src, alt: `${r.name}: seed ${im.seed} from ${res.snapshot}`, 'data-seed': String(im.seed), title: `seed ${im.seed}`, class: 'pickle-cell' });
      // Same size as our runs' cropped cells (64 px), crisp pixels.
      img.style.width = img.style.height = '64px';
      return el('div', { class: 'cell' }, img, el('span', { class: 'muted small' }, String(im.seed)));
    }));
    strip.removeAttribute('aria-busy');
    strip.dataset.snapshot = res.snapshot;
    strip.dataset.kimg = String(res.kimg);
    note.textContent = `Rendered from ${res.snapshot} (kimg ${formatValue(res.kimg)}): G_ema, ψ 1, noise const; seed s = numpy RandomState(s), as generate.py --seeds.`;
  }, (e: unknown) => {
    strip.removeAttribute('aria-busy');
    note.className = 'error-text';
    note.textContent = `${r.name}: ${e instanceof Error ? e.message : String(e)}`;
  });
  return wrap;
}

/** The given seeds' cells cropped from a grid whose cell i is seed i, at 2× with crisp pixels. */
function cellStrip(r: CompareRunInfo, uri: string, cell: number, seeds: number[]): HTMLElement {
  const strip = el('div', { class: 'cell-strip' });
  const canvases = seeds.map((s) => {
    const c = el('canvas', { width: String(cell), height: String(cell), 'data-seed': String(s), title: `seed ${s}`, role: 'img', 'aria-label': `${r.name}: cell of seed ${s}` });
    strip.append(el('div', { class: 'cell' }, c, el('span', { class: 'muted small' }, String(s))));
    return c;
  });
  loadImage(uri).then((img) => {
    const cols = Math.floor(img.naturalWidth / cell);
    const rows = Math.floor(img.naturalHeight / cell);
    canvases.forEach((c, k) => {
      const s = seeds[k];
      const ctx = c.getContext('2d');
      if (!ctx) return;
      if (s >= cols * rows) {
        c.classList.add('missing');
        c.title = `seed ${s} is not in this grid (cells 0–${cols * rows - 1})`;
        c.setAttribute('aria-label', `${r.name}: seed ${s} is not in this grid`);
        return;
      }
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, (s % cols) * cell, Math.floor(s / cols) * cell, cell, cell, 0, 0, cell, cell);
    });
  }, (e: unknown) => strip.append(el('p', { class: 'error-text' }, `${r.name}: ${e instanceof Error ? e.message : String(e)}`)));
  return strip;
}

//#endregion

//#region controls

scalarSelect.addEventListener('change', () => {
  ui.scalar = scalarSelect.value;
  persist();
  void loadSeries();
});
let smoothTimer: ReturnType<typeof setTimeout> | undefined;
smoothingInput.addEventListener('input', () => {
  ui.smoothing = Math.min(0.99, Math.max(0, Number(smoothingInput.value)));
  smoothingValue.textContent = ui.smoothing.toFixed(2);
  clearTimeout(smoothTimer);
  smoothTimer = setTimeout(() => {
    persist();
    renderChart();
  }, 60);
});
logBox.addEventListener('change', () => {
  ui.log = logBox.checked;
  chart.setLog(ui.log);
  persist();
  renderChart();
});
resetZoom.addEventListener('click', () => chart.resetZoom());
modeSelect.addEventListener('change', () => {
  ui.gridMode = modeSelect.value === 'cells' ? 'cells' : 'grids';
  persist();
  renderSamples();
});
kimgSelect.addEventListener('change', () => {
  ui.gridKimg = kimgSelect.value;
  persist();
  renderSamples();
});
let seedTimer: ReturnType<typeof setTimeout> | undefined;
seedsInput.addEventListener('input', () => {
  clearTimeout(seedTimer);
  seedTimer = setTimeout(() => {
    ui.seeds = seedsInput.value;
    persist();
    renderSamples();
  }, 250);
});

async function doExport(format: 'csv' | 'markdown', button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const r = await channel.request('exportTable', { format }, { timeoutMs: 0 });
    if ('file' in r) status.textContent = `Exported to ${r.file}`;
  } catch (e) {
    status.textContent = `Export failed: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    button.disabled = false;
  }
}
exportCsv.addEventListener('click', () => void doExport('csv', exportCsv));
exportMd.addEventListener('click', () => void doExport('markdown', exportMd));

//#endregion

//#region host messages

function showInfo(i: CompareInfo): void {
  info = i;
  ui.runDirs = i.runs.map((r) => r.dir);
  const n = i.runs.length;
  title.textContent = `Compare ${n} run${n === 1 ? '' : 's'}`;
  status.dataset.runs = String(n);
  status.textContent = i.runs.map((r) => `${r.name.split('-')[0]} ${ggdrText(r) || r.origin}`.trim()).join(' · ');
  document.title = `Compare · ${n} runs`;
  errorsEl.hidden = i.errors.length === 0;
  errorsEl.textContent = i.errors.length ? `Left out: ${i.errors.join('; ')}` : '';
  renderScalars();
  renderTable();
  renderOptionDiff();
  renderKimgOptions();
  renderSamples();
  renderLegend();
  persist();
  void loadSeries();
}

channel.on('info', showInfo);
channel.request('hello', {}).then(showInfo, (e: unknown) => {
  status.textContent = `Could not load the runs: ${e instanceof Error ? e.message : String(e)}`;
  status.dataset.state = 'error';
});

//#endregion

// For debugging from the webview devtools.
(window as unknown as { ganCompare: unknown }).ganCompare = { ui, chart, get info() { return info; }, get series() { return series; } };
