/**
 * One chart per series group, drawn with uPlot. Why uPlot: ~50 KB, canvas-based, built for large
 * time series (its line path builder collapses points that share a pixel column to min/max, so
 * 100,000-point series redraw in milliseconds), with drag-zoom, double-click reset and cursor sync
 * built in. Chart.js/Plotly are 5–20× larger and slow down well before 100k points. Added here: pan
 * (Shift+drag, middle-drag, Shift+Left/Right), Ctrl/⌘+wheel zoom at the pointer, keyboard read-out and
 * zoom, x ranges shared by every chart of the page, and restyling when the VS Code theme changes.
 */
import uPlot from 'uplot';
import { formatDuration, formatValue, lastValueIdx } from './series';

export interface ChartSeries {
  /** Stats name, e.g. "Loss/G/loss". */
  name: string;
  color: string;
  raw: (number | null)[];
  /** null when smoothing is off (then only raw is drawn, solid). */
  smoothed: (number | null)[] | null;
  hidden: boolean;
  /** Draw point markers (sparse series such as metrics). */
  points?: boolean;
}

export interface ChartData {
  x: number[];
  series: ChartSeries[];
}

export interface HoverInfo {
  group: string;
  x: number;
  values: Array<{ name: string; raw: number | null; smoothed: number | null; color: string }>;
}

export interface GroupChartOptions {
  groupId: string;
  /** What the chart shows, e.g. "Loss/G": the start of its text alternative (the container's aria-label). */
  label: string;
  container: HTMLElement;
  xAxis: 'kimg' | 'time';
  log: boolean;
  height?: number;
  onHover: (info: HoverInfo | null) => void;
  /** Zoom changed (x range or null when reset). */
  onZoom?: (range: { min: number; max: number } | null) => void;
}

const SYNC_KEY = 'gan-inspector-loss';

/**
 * Every live chart of the page. uPlot shares drag zoom and double-click reset between charts of one sync
 * key itself; pan, wheel and keyboard zoom are passed on through this set.
 */
const live = new Set<GroupChart>();

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** The theme-dependent colours and font the axes are drawn with. */
function axisLook(): { fg: string; grid: string; font: string } {
  return {
    fg: cssVar('--vscode-foreground', '#ccc'),
    grid: cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)'),
    font: `11px ${cssVar('--vscode-font-family', 'sans-serif')}`,
  };
}

let themeObserver: MutationObserver | undefined;

/**
 * VS Code marks a theme change on the body (class vscode-light/-dark/-high-contrast, data-vscode-theme-*)
 * and sets the new colours as CSS variables on <html>: canvas axes do not follow CSS, so the charts are
 * restyled (each rebuilds only when its colours really changed: <html> style also changes for other reasons).
 */
function watchTheme(): void {
  if (themeObserver) return;
  themeObserver = new MutationObserver(() => {
    for (const c of live) c.restyle();
  });
  themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind', 'data-vscode-theme-id', 'data-vscode-theme-name'] });
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
}

/** An x value as the axis and the text alternative show it. */
function formatX(axis: 'kimg' | 'time', v: number): string {
  return axis === 'time' ? formatDuration(v) : formatValue(v);
}

function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Replaces values a log scale cannot show (≤ 0) with gaps. */
function positiveOnly(a: (number | null)[]): (number | null)[] {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    out[i] = v !== null && v > 0 ? v : null;
  }
  return out;
}

/**
 * A uPlot chart whose series layout is rebuilt when the set of series changes (keeping the zoom), and
 * data-updated otherwise. Keyboard: the container is a Tab stop; Left/Right (PageUp/PageDown: a tenth of
 * the range, Home/End) move the cursor point by point through the shown x range and report it like a
 * hover; + and − zoom in and out around it (like a drag / double-click); Shift+Left/Right pan a zoomed
 * chart by a tenth of its width; Escape hides the cursor. Mouse: drag zooms, Shift+drag or middle-drag
 * pans, Ctrl/⌘+wheel zooms at the pointer (a plain wheel scrolls the page), double-click resets. Pan and
 * zoom stay inside the data range and apply to every chart of the page. Its aria-label summarises the
 * chart (series, x range, shown range, latest values) for screen readers.
 */
export class GroupChart {
  private plot: uPlot | undefined;
  private layoutKey = '';
  private data: ChartData = { x: [], series: [] };
  private zoomed = false;
  private readonly resize: ResizeObserver;
  /** Data index of the keyboard cursor (also follows the mouse). */
  private keyIdx: number | null = null;
  /** Set while the keyboard moves the cursor: many points can share a pixel, so uPlot's own index could lag. */
  private forcedIdx: number | null = null;
  /** The axis colours/font the plot was built with (axisLook), to notice a theme change. */
  private look = '';

  constructor(private readonly o: GroupChartOptions) {
    // uPlot redraws on every setSize; the observer also fires once right after the first draw, at the same size.
    this.resize = new ResizeObserver(() => {
      const u = this.plot;
      const size = this.size();
      if (u && (u.width !== size.width || u.height !== size.height)) u.setSize(size);
    });
    this.resize.observe(o.container);
    o.container.tabIndex = 0;
    o.container.addEventListener('keydown', (e) => this.onKey(e));
    o.container.addEventListener('blur', () => this.plot?.setCursor({ left: -10, top: -10 }));
    // Not passive: a Ctrl/⌘+wheel over the plot zooms instead of zooming or scrolling anything else.
    o.container.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    // uPlot's own listeners are passive: cancel middle-click autoscroll and Shift-click text selection here.
    o.container.addEventListener('mousedown', (e) => {
      if (e.button === 1 || (e.button === 0 && e.shiftKey)) e.preventDefault();
    });
    live.add(this);
    watchTheme();
    this.summarize();
  }

  /** Changes the start of the text alternative (e.g. the compared scalar). */
  setLabel(label: string): void {
    this.o.label = label;
    this.summarize();
  }

  get isZoomed(): boolean {
    return this.zoomed;
  }

  /** The shown x range (null before the first draw). */
  get xRange(): { min: number; max: number } | null {
    const xs = this.plot?.scales.x;
    return xs && xs.min !== undefined && xs.max !== undefined ? { min: xs.min, max: xs.max } : null;
  }

  /** Rebuilds the plot (keeping its zoom) when the theme's axis colours or font changed since it was built. */
  restyle(): void {
    if (this.plot && JSON.stringify(axisLook()) !== this.look) this.rebuild(this.layoutKey);
  }

  /** Draws new data; keeps the user's zoom while live data arrives. */
  update(data: ChartData): void {
    this.data = data;
    this.summarize();
    const key = `${this.o.xAxis}|${this.o.log}|` + data.series.map((s) => `${s.name}:${s.smoothed ? 's' : 'r'}:${s.hidden ? 'h' : ''}`).join(',');
    if (!this.plot || key !== this.layoutKey) {
      this.rebuild(key);
      return;
    }
    const keepZoom = this.zoomed;
    const xs = this.plot.scales.x;
    const min = xs.min;
    const max = xs.max;
    this.plot.setData(this.aligned(), !keepZoom);
    if (keepZoom && min !== undefined && max !== undefined) this.plot.setScale('x', { min, max });
  }

  setXAxis(x: 'kimg' | 'time'): void {
    this.o.xAxis = x;
    this.zoomed = false;
  }

  setLog(log: boolean): void {
    this.o.log = log;
  }

  resetZoom(): void {
    if (!this.plot) return;
    this.zoomed = false;
    this.plot.setData(this.aligned(), true);
    this.o.onZoom?.(null);
  }

  destroy(): void {
    live.delete(this);
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.o.container.clientWidth), height: this.o.height ?? 220 };
  }

  private aligned(): uPlot.AlignedData {
    const cols: (number | null)[][] = [];
    for (const s of this.data.series) {
      if (s.smoothed) {
        cols.push(this.o.log ? positiveOnly(s.raw) : s.raw);
        cols.push(this.o.log ? positiveOnly(s.smoothed) : s.smoothed);
      } else {
        cols.push(this.o.log ? positiveOnly(s.raw) : s.raw);
      }
    }
    return [this.data.x, ...cols] as uPlot.AlignedData;
  }

  private rebuild(key: string): void {
    // A rebuild (series hidden, log scale, theme) keeps the zoom; a new x axis (setXAxis) has cleared it.
    // A new chart (a group that just appeared) joins the zoom the other charts share.
    const keep = this.zoomed ? this.xRange : this.plot ? null : this.sharedZoom();
    this.plot?.destroy();
    this.layoutKey = key;
    this.zoomed = false;
    const look = axisLook();
    this.look = JSON.stringify(look);
    const { fg, grid, font } = look;
    const series: uPlot.Series[] = [{ label: this.o.xAxis === 'kimg' ? 'kimg' : 'time' }];
    for (const s of this.data.series) {
      const common = { scale: 'y', spanGaps: true, show: !s.hidden, points: { show: s.points ?? false, size: 5 } };
      if (s.smoothed) {
        series.push({ ...common, label: `${s.name} (raw)`, stroke: withAlpha(s.color, 0.3), width: 1 });
        series.push({ ...common, label: s.name, stroke: s.color, width: 1.5 });
      } else {
        series.push({ ...common, label: s.name, stroke: s.color, width: 1.5 });
      }
    }
    const xAxis = this.o.xAxis;
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: false },
      scales: {
        x: { time: false },
        y: this.o.log ? { distr: 3, log: 10 } : { distr: 1 },
      },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font, values: (_u, splits) => splits.map((v) => formatX(xAxis, v)) },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font, size: 60, values: (_u, splits) => splits.map((v) => formatValue(v)) },
      ],
      series,
      cursor: {
        drag: { x: true, y: false, setScale: true },
        sync: { key: SYNC_KEY, setSeries: false },
        points: { size: 6 },
        bind: {
          // Shift+drag and middle-drag pan; a plain left drag stays uPlot's zoom selection.
          mousedown: (_u, targ, handler) => (e: MouseEvent) => {
            if (e.target !== targ) return null;
            if (e.button === 1 || (e.button === 0 && e.shiftKey)) {
              this.startPan(e);
            } else if (e.button === 0) {
              handler(e);
            }
            return null;
          },
        },
      },
      hooks: {
        setCursor: [(u) => this.onCursor(u)],
        setSelect: [
          (u) => {
            if (u.select.width > 0) {
              this.zoomed = true;
            }
          },
        ],
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            const xs = u.scales.x;
            const first = this.data.x[0];
            const last = this.data.x[this.data.x.length - 1];
            // A double-click resets to the full data range: that is "not zoomed".
            if (xs.min !== undefined && xs.max !== undefined && first !== undefined && last !== undefined) {
              const full = xs.min <= first && xs.max >= last;
              this.zoomed = !full;
              this.o.onZoom?.(full ? null : { min: xs.min, max: xs.max });
              this.summarize();
            }
          },
        ],
      },
    };
    this.o.container.replaceChildren();
    this.plot = new uPlot(opts, this.aligned(), this.o.container);
    this.plot.over.setAttribute('aria-hidden', 'true');
    if (keep) this.plot.setScale('x', keep);
  }

  /** The container's aria-label: what is drawn, over which x range, and the latest value of every shown series. */
  private summarize(): void {
    const { x, series } = this.data;
    const shown = series.filter((s) => !s.hidden);
    const xName = this.o.xAxis === 'kimg' ? 'kimg' : 'wall time';
    const xFmt = (v: number) => formatX(this.o.xAxis, v);
    let text: string;
    if (!x.length || !series.length) {
      text = `${this.o.label} chart: no data yet.`;
    } else {
      const latest = shown.map((s) => {
        const i = lastValueIdx(s.raw);
        if (i < 0) return `${s.name} no value`;
        const sm = s.smoothed?.[i];
        return `${s.name} ${formatValue(s.raw[i])}${sm !== null && sm !== undefined ? ` (smoothed ${formatValue(sm)})` : ''} at ${xName} ${xFmt(x[i])}`;
      });
      const r = this.zoomed ? this.xRange : null;
      text = `${this.o.label} chart, ${shown.length} of ${series.length} series, ${xName} ${xFmt(x[0])} to ${xFmt(x[x.length - 1])}`
        + `${r ? `, showing ${xFmt(r.min)} to ${xFmt(r.max)} (zoomed)` : ''}. `
        + (latest.length ? `Latest: ${latest.join('; ')}. ` : '')
        + 'Left and Right arrow keys read the values point by point, plus and minus zoom, Shift with Left and Right pans.';
    }
    if (this.o.container.getAttribute('aria-label') !== text) this.o.container.setAttribute('aria-label', text);
  }

  private onKey(e: KeyboardEvent): void {
    const u = this.plot;
    const x = this.data.x;
    if (!u || !x.length || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Escape') {
      u.setCursor({ left: -10, top: -10 });
      return;
    }
    if (e.key === '+' || e.key === '=' || e.key === '-' || e.key === '_') {
      e.preventDefault();
      this.zoomBy(e.key === '+' || e.key === '=' ? 0.5 : 2);
      return;
    }
    if (e.shiftKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      e.preventDefault();
      this.panBy(e.key === 'ArrowLeft' ? -0.1 : 0.1);
      return;
    }
    // Indices inside the shown (maybe zoomed) x range.
    const lo = u.scales.x.min ?? x[0];
    const hi = u.scales.x.max ?? x[x.length - 1];
    let first = 0;
    while (first < x.length && !(x[first] >= lo)) first++;
    let last = x.length - 1;
    while (last >= 0 && !(x[last] <= hi)) last--;
    if (first > last) return;
    const cur = this.keyIdx !== null && this.keyIdx >= first && this.keyIdx <= last ? this.keyIdx : null;
    const page = Math.max(1, Math.round((last - first) / 10));
    let next: number;
    switch (e.key) {
      case 'ArrowLeft': next = cur === null ? last : cur - 1; break;
      case 'ArrowRight': next = cur === null ? last : cur + 1; break;
      case 'PageUp': next = cur === null ? last : cur - page; break;
      case 'PageDown': next = cur === null ? last : cur + page; break;
      case 'Home': next = first; break;
      case 'End': next = last; break;
      default: return;
    }
    e.preventDefault();
    this.moveCursor(Math.min(last, Math.max(first, next)));
  }

  /** Puts the cursor on data index `i` (on the first shown series' value) and reports it like a hover. */
  private moveCursor(i: number): void {
    const u = this.plot;
    if (!u) return;
    this.keyIdx = i;
    const y = this.data.series.map((s) => (s.hidden ? null : s.smoothed?.[i] ?? s.raw[i])).find((v) => v !== null && v !== undefined && (!this.o.log || v > 0));
    const top = y !== null && y !== undefined ? u.valToPos(y, 'y') : u.over.clientHeight / 2;
    this.forcedIdx = i;
    try {
      u.setCursor({ left: u.valToPos(this.data.x[i], 'x'), top });
    } finally {
      this.forcedIdx = null;
    }
  }

  /** The x range of another zoomed chart on the same x axis, if any. */
  private sharedZoom(): { min: number; max: number } | null {
    for (const c of live) if (c !== this && c.zoomed && c.o.xAxis === this.o.xAxis && c.xRange) return c.xRange;
    return null;
  }

  /**
   * Shows x in [min, max] moved inside the data range (as wide as the data or wider: reset), here and on
   * every other chart of the page. Returns the range shown, null when reset or nothing to show.
   */
  private setRange(min: number, max: number): { min: number; max: number } | null {
    const u = this.plot;
    const x = this.data.x;
    if (!u || x.length < 2) return null;
    const lo = x[0], hi = x[x.length - 1];
    const w = max - min;
    if (!(hi > lo) || !(w > 0)) return null;
    if (w >= hi - lo) {
      for (const c of live) c.resetZoom();
      return null;
    }
    const a = Math.min(Math.max(min, lo), hi - w);
    const r = { min: a, max: a + w };
    u.setScale('x', r);
    // The others' data may span less (metrics: one point per snapshot): their range is not clamped, as uPlot's drag sync does.
    for (const c of live) if (c !== this && c.plot && c.data.x.length) c.plot.setScale('x', r);
    return r;
  }

  /** Re-anchors the keyboard cursor on data index `k` after the range changed (hidden when it left the range). */
  private keepCursor(k: number | null, r: { min: number; max: number } | null): void {
    if (k === null) return;
    const v = this.data.x[k];
    if (!r || (v >= r.min && v <= r.max)) this.moveCursor(k);
    else this.plot?.setCursor({ left: -10, top: -10 });
  }

  /** Scales the shown x range by `f` around the keyboard cursor (else the middle), within the data range. */
  private zoomBy(f: number): void {
    const r0 = this.xRange;
    if (!r0 || (f > 1 && !this.zoomed)) return;
    const x = this.data.x;
    const k = this.keyIdx;
    const c = k !== null && x[k] >= r0.min && x[k] <= r0.max ? x[k] : (r0.min + r0.max) / 2;
    const w = (r0.max - r0.min) * f;
    this.keepCursor(k, this.setRange(c - w / 2, c + w / 2));
  }

  /** Moves a zoomed x range by `frac` of its width (negative: left), stopping at the ends of the data. */
  private panBy(frac: number): void {
    const r0 = this.xRange;
    if (!r0 || !this.zoomed) return;
    const d = (r0.max - r0.min) * frac;
    this.keepCursor(this.keyIdx, this.setRange(r0.min + d, r0.max + d));
  }

  /** Shift+drag / middle-drag: the data follows the pointer until the button is released. */
  private startPan(e: MouseEvent): void {
    const u = this.plot;
    const r0 = this.xRange;
    if (!u || !r0 || !this.zoomed) return;
    const x0 = e.clientX;
    const perPx = (r0.max - r0.min) / Math.max(1, u.over.clientWidth);
    const move = (ev: MouseEvent) => {
      const d = (ev.clientX - x0) * perPx;
      this.setRange(r0.min - d, r0.max - d);
    };
    const up = () => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      u.over.style.cursor = '';
    };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
    u.over.style.cursor = 'grabbing';
  }

  /** Ctrl/⌘+wheel over the plot: zoom in (wheel up) or out around the x under the pointer. */
  private onWheel(e: WheelEvent): void {
    const u = this.plot;
    const r0 = this.xRange;
    if (!u || !r0 || !(e.ctrlKey || e.metaKey) || !u.over.contains(e.target as Node)) return;
    e.preventDefault();
    // Pixels per event differ by device: a wheel notch (~100 px) scales by ~1.2, a trackpad pinch by a little.
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
    const f = Math.min(2, Math.max(0.5, Math.exp(dy * 0.002)));
    if (f === 1 || (f > 1 && !this.zoomed)) return;
    const rect = u.over.getBoundingClientRect();
    const c = u.posToVal(Math.min(rect.width, Math.max(0, e.clientX - rect.left)), 'x');
    this.setRange(c - (c - r0.min) * f, c + (r0.max - c) * f);
  }

  private onCursor(u: uPlot): void {
    const idx = this.forcedIdx ?? u.cursor.idx;
    if (this.forcedIdx === null && idx !== null && idx !== undefined) this.keyIdx = idx;
    if (idx === null || idx === undefined || idx < 0 || idx >= this.data.x.length) {
      this.o.onHover(null);
      return;
    }
    const values: HoverInfo['values'] = [];
    for (const s of this.data.series) {
      if (s.hidden) continue;
      values.push({ name: s.name, raw: s.raw[idx] ?? null, smoothed: s.smoothed ? s.smoothed[idx] ?? null : null, color: s.color });
    }
    this.o.onHover({ group: this.o.groupId, x: this.data.x[idx], values });
  }
}
