/**
 * Loss-curves webview: every scalar of stats.jsonl (and metric-*.jsonl) grouped into charts, with
 * TensorBoard smoothing, log scale, hover read-out, drag zoom / Shift-drag pan / double-click reset, kimg
 * or wall-time x. Every host message is validated before use (lossWebviewValidators).
 * Stable ids for end-to-end tests: #latest-values tr[data-series] td.raw[data-value], #hover-readout,
 * #skipped-lines[data-count], #incomplete-line[data-count], #run-status[data-state], #row-count[data-count].
 */
import 'uplot/dist/uPlot.min.css';
import '../common/base.css';
import '../common/chart.css';
import './loss.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import { connect, loadState, reportErrors, saveState } from '../common/channel';
import { fixButtonSpace, keepFocusBelow, roving, wireRadioGroup } from '../common/a11y';
import { el } from '../common/dom';
import { DEFAULT_SMOOTHING } from '../../src/shared/protocol/panels/common';
import { isLossPanelState, lossWebviewValidators, type LossHostApi, type LossPanelState, type LossRunInfo, type LossWebviewApi, type LossXAxis } from '../../src/shared/protocol/panels/loss';
import { PALETTE_HEX } from '../../src/shared/palette';
import { GroupChart, type ChartSeries, type HoverInfo } from './chart';
import { MetricsStore, StatsStore, fillX, formatDuration, formatValue, groupOf, lastValueIdx, type GroupInfo } from './series';

// A malformed host message is dropped and reported to the host's Output channel, never drawn.
const channel = connect<LossWebviewApi, LossHostApi>({
  validators: lossWebviewValidators,
  onInvalid: (reason) => void channel.emit('webviewError', { message: `Loss panel ignored a message from the host: ${reason}` }),
});
reportErrors((message) => void channel.emit('webviewError', { message }));

const saved = loadState(isLossPanelState);
const ui = {
  runDir: saved?.runDir ?? '',
  smoothing: saved?.smoothing ?? DEFAULT_SMOOTHING,
  xAxis: (saved?.xAxis ?? 'kimg') as LossXAxis,
  logGroups: new Set(saved?.logGroups ?? []),
  hidden: new Set(saved?.hidden ?? []),
  collapsed: new Set(saved?.collapsed ?? []),
};

function persist(): void {
  if (!ui.runDir) return;
  const s: LossPanelState = {
    v: 1,
    runDir: ui.runDir,
    smoothing: ui.smoothing,
    xAxis: ui.xAxis,
    logGroups: [...ui.logGroups],
    hidden: [...ui.hidden],
    collapsed: [...ui.collapsed],
  };
  saveState(s);
}

const stats = new StatsStore(ui.smoothing);
const metrics = new MetricsStore();
let run: LossRunInfo | undefined;

//#region DOM skeleton

const title = el('h1', { id: 'run-title' }, 'Loss curves');
const status = el('span', { id: 'run-status', 'data-state': 'unknown', role: 'status' });
const rowCount = el('span', { id: 'row-count', class: 'muted', 'data-count': '0' });
const skippedEl = el('span', { id: 'skipped-lines', class: 'warning-text', 'data-count': '0', hidden: '' });
const incompleteEl = el('span', { id: 'incomplete-line', class: 'muted', 'data-count': '0', hidden: '' }, '1 incomplete last line (waiting)');
const openLog = el('button', { id: 'open-log', class: 'link', type: 'button' }, 'Open log');
const openStats = el('button', { id: 'open-stats', class: 'link', type: 'button', 'aria-label': 'Open stats.jsonl' }, 'stats.jsonl');

const smoothingInput = el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'Smoothing weight (TensorBoard-style exponential moving average)' });
smoothingInput.value = String(ui.smoothing);
const smoothingValue = el('output', { id: 'smoothing-value', for: 'smoothing' }, ui.smoothing.toFixed(2));

const xGroup = document.createElement('vscode-radio-group');
xGroup.id = 'x-axis';
xGroup.setAttribute('aria-label', 'X axis');
for (const [value, label] of [['kimg', 'kimg'], ['time', 'wall time']] as const) {
  const r = document.createElement('vscode-radio');
  r.id = `x-axis-${value}`;
  r.name = 'x-axis';
  r.value = value;
  r.label = label;
  r.checked = ui.xAxis === value;
  xGroup.append(r);
}

const resetZoom = document.createElement('vscode-button');
resetZoom.id = 'reset-zoom';
resetZoom.secondary = true;
resetZoom.textContent = 'Reset zoom';
resetZoom.setAttribute('aria-label', 'Reset zoom on all charts');

// A banner landmark, not role=toolbar: its controls are separate Tab stops (a toolbar promises arrow keys).
const header = el(
  'header',
  { class: 'toolbar', 'aria-label': 'Loss curve controls' },
  el('div', { class: 'title-row' }, title, status, rowCount, skippedEl, incompleteEl, el('span', { class: 'links' }, openLog, ' · ', openStats)),
  el('div', { class: 'controls' },
    el('label', { for: 'smoothing', class: 'control' }, 'Smoothing ', smoothingInput, smoothingValue),
    el('span', { class: 'control' }, 'X axis ', xGroup),
    resetZoom),
);
// Mouse hover would flood a screen reader, so the read-out is only live while a chart has keyboard focus (arrow keys).
const hoverReadout = el('div', { id: 'hover-readout', class: 'readout muted', 'aria-live': 'off' }, 'Hover a chart (or focus it and use the arrow keys) to read exact values; drag to zoom, Shift+drag (or middle-drag) to pan, Ctrl+wheel to zoom at the pointer, double-click to reset.');
const WAITING_TEXT = 'Waiting for the first line of stats.jsonl…';
const emptyState = el('p', { id: 'empty-state', class: 'muted' }, WAITING_TEXT);
const chartsEl = el('div', { id: 'charts' });
const latestTable = el('table', { id: 'latest-values', class: 'data', 'aria-label': 'Latest value of every series' });
const latestSection = el('section', { class: 'latest', 'aria-labelledby': 'latest-heading' }, el('h2', { id: 'latest-heading' }, 'Latest values'), latestTable);
document.body.append(header, el('main', {}, hoverReadout, emptyState, chartsEl, latestSection));
keepFocusBelow(header);
fixButtonSpace();
document.addEventListener('focusin', (e) => hoverReadout.setAttribute('aria-live', (e.target as Element).closest?.('.chart') ? 'polite' : 'off'));

//#endregion

//#region charts

interface GroupView {
  info: GroupInfo;
  section: HTMLElement;
  legend: HTMLElement;
  chart: GroupChart;
  names: string[];
}
const groups = new Map<string, GroupView>();
const colorOf = new Map<string, string>();

function seriesColor(name: string): string {
  let c = colorOf.get(name);
  if (!c) colorOf.set(name, (c = PALETTE_HEX[colorOf.size % PALETTE_HEX.length]));
  return c;
}

function groupView(info: GroupInfo): GroupView {
  let g = groups.get(info.id);
  if (g) return g;
  const chartEl = el('div', { class: 'chart', role: 'img', 'aria-label': `${info.label} chart` });
  const logBox = document.createElement('vscode-checkbox');
  logBox.id = `log-${info.id}`;
  // Slotted text names the inner checkbox (the host's aria-label does not reach it); the group is visually implied.
  logBox.append('log scale', el('span', { class: 'sr-only' }, ` for ${info.label}`));
  logBox.checked = ui.logGroups.has(info.id);
  const collapse = el('button', { class: 'collapse', type: 'button', 'aria-expanded': String(!ui.collapsed.has(info.id)), 'aria-controls': `body-${info.id}` }, info.label);
  // Series toggles: one Tab stop per legend, arrow keys between them.
  const legend = el('ul', { class: 'legend', role: 'toolbar', 'aria-label': `${info.label} series (shown or hidden)` });
  roving(legend, 'button.series-toggle', { orientation: 'horizontal', key: (b) => b.dataset.series ?? '' });
  const body = el('div', { id: `body-${info.id}`, class: 'group-body' }, legend, chartEl);
  body.hidden = ui.collapsed.has(info.id);
  const section = el('section', { class: 'group', 'data-group': info.id, 'data-order': String(info.order) }, el('h2', {}, collapse, logBox), body);
  const chart = new GroupChart({ groupId: info.id, label: info.label, container: chartEl, xAxis: ui.xAxis, log: logBox.checked, onHover: showHover });
  g = { info, section, legend, chart, names: [] };
  groups.set(info.id, g);
  logBox.addEventListener('change', () => {
    if (logBox.checked) ui.logGroups.add(info.id);
    else ui.logGroups.delete(info.id);
    chart.setLog(logBox.checked);
    persist();
    scheduleRender(true);
  });
  collapse.addEventListener('click', () => {
    const open = body.hidden;
    body.hidden = !open;
    collapse.setAttribute('aria-expanded', String(open));
    if (open) ui.collapsed.delete(info.id);
    else ui.collapsed.add(info.id);
    persist();
    scheduleRender(true);
  });
  // Keep groups in their fixed order.
  const after = [...chartsEl.children].find((c) => Number((c as HTMLElement).dataset.order) > info.order || ((c as HTMLElement).dataset.order === String(info.order) && (c as HTMLElement).dataset.group! > info.id));
  chartsEl.insertBefore(section, after ?? null);
  return g;
}

function renderLegend(g: GroupView): void {
  const items = g.names.map((name) => {
    const b = el('button', { type: 'button', class: 'series-toggle', 'data-series': name, 'aria-pressed': String(!ui.hidden.has(name)), title: `Show/hide ${name}` },
      el('span', { class: 'swatch', 'aria-hidden': 'true' }), name);
    (b.firstChild as HTMLElement).style.background = seriesColor(name);
    b.addEventListener('click', () => {
      if (ui.hidden.has(name)) ui.hidden.delete(name);
      else ui.hidden.add(name);
      b.setAttribute('aria-pressed', String(!ui.hidden.has(name)));
      persist();
      scheduleRender(true);
    });
    return el('li', { role: 'none' }, b);
  });
  g.legend.replaceChildren(...items);
}

const METRIC_PREFIX = 'Metrics/';

/** Assigns every known series to its group view (new groups/legend entries are created on the fly). */
function layout(): void {
  const byGroup = new Map<string, { info: GroupInfo; names: string[] }>();
  const add = (name: string) => {
    const info = groupOf(name);
    let e = byGroup.get(info.id);
    if (!e) byGroup.set(info.id, (e = { info, names: [] }));
    e.names.push(name);
  };
  for (const name of [...stats.columns.keys()].sort()) add(name);
  for (const name of [...metrics.series.keys()].sort()) add(METRIC_PREFIX + name);
  for (const [id, { info, names }] of byGroup) {
    const g = groupView(info);
    if (g.names.join('\n') !== names.join('\n')) {
      g.names = names;
      renderLegend(g);
    }
    void id;
  }
  for (const [id, g] of groups) {
    if (!byGroup.has(id)) {
      g.chart.destroy();
      g.section.remove();
      groups.delete(id);
    }
  }
}

let xCache: { key: string; x: number[] } = { key: '', x: [] };

function statsX(): number[] {
  const key = `${ui.xAxis}|${stats.generation}|${stats.rows}`;
  if (xCache.key !== key) {
    xCache = { key, x: ui.xAxis === 'time' ? stats.elapsed() : fillX(stats.kimg, (i) => i) };
  }
  return xCache.x;
}

function metricsData(names: string[]): { x: number[]; series: ChartSeries[] } {
  // Align the metric series on the union of their x values (few points: one per snapshot).
  const t0 = stats.timestamp[0] ?? Math.min(...[...metrics.series.values()].flatMap((s) => s.timestamp));
  const perSeries = names.map((n) => {
    const s = metrics.series.get(n.slice(METRIC_PREFIX.length))!;
    const xs = ui.xAxis === 'time' ? s.timestamp.map((t) => t - t0) : s.kimg;
    const m = new Map<number, number | null>();
    xs.forEach((x, i) => { if (x !== null && Number.isFinite(x)) m.set(x, s.value[i]); });
    return m;
  });
  const x = [...new Set(perSeries.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const series = names.map((name, j): ChartSeries => ({
    name,
    color: seriesColor(name),
    raw: x.map((v) => (perSeries[j].has(v) ? perSeries[j].get(v)! : null)),
    smoothed: null,
    hidden: ui.hidden.has(name),
    points: true,
  }));
  return { x, series };
}

function renderCharts(): void {
  layout();
  const x = statsX();
  const smoothingOn = ui.smoothing > 0;
  for (const g of groups.values()) {
    if (ui.collapsed.has(g.info.id)) continue;
    if (g.info.id === 'metrics') {
      g.chart.update(metricsData(g.names));
      continue;
    }
    const series: ChartSeries[] = g.names.map((name) => {
      const col = stats.columns.get(name)!;
      return { name, color: seriesColor(name), raw: col.raw, smoothed: smoothingOn ? col.smoothed : null, hidden: ui.hidden.has(name) };
    });
    g.chart.update({ x, series });
  }
}

function renderLatest(): void {
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Series'), el('th', { scope: 'col' }, 'Latest'), el('th', { scope: 'col' }, 'Smoothed'), el('th', { scope: 'col' }, 'kimg'));
  const rows: HTMLTableRowElement[] = [];
  const cell = (cls: string, v: number | null) => el('td', { class: `num ${cls}`, 'data-value': v === null ? '' : String(v) }, formatValue(v));
  for (const name of [...stats.columns.keys()].sort()) {
    const col = stats.columns.get(name)!;
    const i = col.lastIdx;
    const raw = i >= 0 ? col.raw[i] : null;
    rows.push(el('tr', { 'data-series': name, 'data-group': groupOf(name).id },
      el('th', { scope: 'row' }, name), cell('raw', raw), cell('smoothed', i >= 0 ? col.smoothed[i] : null), cell('kimg', i >= 0 ? stats.kimgAt(i) : null)));
  }
  for (const [mname, s] of [...metrics.series.entries()].sort()) {
    const i = lastValueIdx(s.value);
    const name = METRIC_PREFIX + mname;
    rows.push(el('tr', { 'data-series': name, 'data-group': 'metrics' },
      el('th', { scope: 'row' }, name), cell('raw', i >= 0 ? s.value[i] : null), cell('smoothed', null), cell('kimg', i >= 0 ? s.kimg[i] : null)));
  }
  latestTable.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function renderStatus(): void {
  // An incomplete last line is waiting for its newline while the run trains; otherwise it is torn, and skipped.
  const live = run?.state === 'running';
  const torn = live ? 0 : stats.incomplete;
  const total = stats.skipped + torn + metrics.skipped;
  skippedEl.hidden = total === 0;
  skippedEl.dataset.count = String(total);
  skippedEl.textContent = total ? `${total} unreadable line${total === 1 ? '' : 's'} skipped` : '';
  skippedEl.title = `stats.jsonl: ${stats.skipped + torn}${torn ? ' (1 of them an incomplete last line)' : ''}, metric files: ${metrics.skipped} (garbage or truncated lines)`;
  const waiting = live ? stats.incomplete : 0;
  incompleteEl.hidden = waiting === 0;
  incompleteEl.dataset.count = String(waiting);
  incompleteEl.title = 'stats.jsonl ends in a line without its newline: the trainer is writing it (counted as skipped if it stays incomplete)';
  rowCount.dataset.count = String(stats.sourceRows);
  rowCount.dataset.plotted = String(stats.rows);
  rowCount.textContent = `${stats.sourceRows} tick${stats.sourceRows === 1 ? '' : 's'}` + (stats.bucketRows ? ` (history decimated: ${stats.rows} plotted, min/max per ${stats.bucketRows} ticks)` : '');
  emptyState.hidden = stats.rows > 0 || metrics.series.size > 0;
  if (!emptyState.hidden) emptyState.textContent = WAITING_TEXT;
}

function showHover(info: HoverInfo | null): void {
  if (!info) return;
  const xLabel = ui.xAxis === 'time' ? `t ${formatDuration(info.x)}` : `kimg ${formatValue(info.x)}`;
  const parts: Node[] = [el('span', { class: 'x', 'data-x': String(info.x), 'data-axis': ui.xAxis }, xLabel)];
  for (const v of info.values) {
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = v.color;
    const text = v.smoothed !== null ? `${v.name} ${formatValue(v.raw)} (smoothed ${formatValue(v.smoothed)})` : `${v.name} ${formatValue(v.raw)}`;
    parts.push(el('span', { class: 'value', 'data-series': v.name, 'data-value': v.raw === null ? '' : String(v.raw) }, sw, text));
  }
  const di = info.group === 'metrics' ? -1 : StatsStore.rowAtX(statsX(), info.x);
  if (stats.decimatedAt(di)) parts.push(el('span', { class: 'decimated', 'data-bucket-rows': String(stats.bucketRows) }, `decimated: stats.jsonl line ${stats.source[di] + 1}; lines around it are not plotted (each series' min and max per ${stats.bucketRows} lines are)`));
  hoverReadout.dataset.group = info.group;
  hoverReadout.classList.remove('muted');
  hoverReadout.replaceChildren(...parts);
}

// Coalesce bursts of chunks into one draw; a setTimeout (not rAF) so retained hidden panels stay current.
// The gap between data-driven draws adapts to their cost (≥ 3× the last draw), so streaming a
// 100k-line backlog spends its time receiving rather than redrawing half-loaded charts.
let renderTimer: ReturnType<typeof setTimeout> | undefined;
let lastRender = 0;
let lastRenderCost = 0;
function scheduleRender(now = false): void {
  if (renderTimer !== undefined) {
    if (!now) return;
    clearTimeout(renderTimer);
  }
  const wait = now ? 0 : Math.max(0, Math.max(150, 3 * lastRenderCost) - (Date.now() - lastRender));
  renderTimer = setTimeout(() => {
    renderTimer = undefined;
    const t = performance.now();
    renderCharts();
    renderLatest();
    renderStatus();
    lastRender = Date.now();
    lastRenderCost = performance.now() - t;
  }, wait);
}

//#endregion

//#region controls

let smoothTimer: ReturnType<typeof setTimeout> | undefined;
smoothingInput.addEventListener('input', () => {
  const w = Math.min(0.99, Math.max(0, Number(smoothingInput.value)));
  ui.smoothing = w;
  smoothingValue.textContent = w.toFixed(2);
  clearTimeout(smoothTimer);
  smoothTimer = setTimeout(() => {
    stats.setSmoothing(w);
    persist();
    scheduleRender(true);
  }, 60);
});

// Clicks, Space and arrow keys (the group's arrow keys fire no change event).
wireRadioGroup(xGroup, (v) => {
  if (v !== 'kimg' && v !== 'time') return;
  ui.xAxis = v;
  for (const g of groups.values()) g.chart.setXAxis(v);
  persist();
  scheduleRender(true);
});

resetZoom.addEventListener('click', () => {
  for (const g of groups.values()) g.chart.resetZoom();
});
openLog.addEventListener('click', () => void channel.emit('openFile', { target: 'log' }));
openStats.addEventListener('click', () => void channel.emit('openFile', { target: 'stats' }));

//#endregion

//#region host messages

function showRun(info: LossRunInfo): void {
  run = info;
  ui.runDir = info.dir;
  persist();
  title.textContent = info.name;
  title.title = info.dir;
  document.title = `Loss · ${info.name}`;
  const total = Number.isFinite(info.totalKimg) ? formatValue(info.totalKimg) : '?';
  const bits = [`${info.state}`, `kimg ${formatValue(info.curKimg)}/${total}`];
  if (info.ggdr !== undefined) bits.push(info.ggdr ? 'ggdr' : 'baseline');
  if (info.backend) bits.push(info.backend);
  status.textContent = bits.join(' · ');
  status.dataset.state = info.state;
  status.title = info.lastError ?? '';
  // Whether an incomplete last line is "waiting" or "skipped" depends on the state.
  renderStatus();
}

// A poll's backlog arrives as several messages, all but the last marked `more`: draw once, after the last
// (drawing half-loaded charts between chunks was most of a 100k-line load). Should the rest never come
// (the host failed mid-poll), the stall timer draws what did.
const BATCH_STALL_MS = 1000;
let batchTimer: ReturnType<typeof setTimeout> | undefined;
function dataArrived(more: boolean): void {
  clearTimeout(batchTimer);
  batchTimer = undefined;
  if (!more) {
    scheduleRender();
    return;
  }
  batchTimer = setTimeout(() => {
    batchTimer = undefined;
    scheduleRender();
  }, BATCH_STALL_MS);
  // Cheap progress while the first load streams in (the charts are drawn at its end).
  if (!emptyState.hidden) emptyState.textContent = `Loading stats.jsonl… ${stats.sourceRows.toLocaleString('en-US')} lines received`;
}

channel.on('runInfo', showRun);
channel.on('stats', (c) => {
  stats.apply(c);
  dataArrived(c.more === true);
});
channel.on('metrics', (c) => {
  metrics.apply(c);
  dataArrived(false);
});

channel.request('hello', {}).then(showRun, (e: unknown) => {
  status.textContent = `Could not load the run: ${e instanceof Error ? e.message : String(e)}`;
  status.dataset.state = 'error';
});

//#endregion

// For debugging from the webview devtools.
(window as unknown as { ganLoss: unknown }).ganLoss = { stats, metrics, ui, groups, get run() { return run; } };
