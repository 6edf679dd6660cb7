/**
 * Control helpers shared by the checkpoint viewer and the segmentation panel: labelled
 * @vscode-elements controls (every control gets an id, a visible label and an accessible name).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import { wireRadioGroup } from '../common/a11y';
import { el } from '../common/dom';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeRadioGroup } from '@vscode-elements/elements/dist/vscode-radio-group/vscode-radio-group.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';

/** A labelled text field; returns the field and a wrapper holding the label. */
export function textfield(id: string, label: string, value: string, opts: { type?: 'text' | 'number'; min?: number; max?: number; size?: string; placeholder?: string; title?: string } = {}) {
  const f = document.createElement('vscode-textfield') as VscodeTextfield;
  f.id = id;
  f.value = value;
  f.label = label;
  if (opts.type) f.type = opts.type;
  if (opts.min !== undefined) f.min = opts.min;
  if (opts.max !== undefined) f.max = opts.max;
  if (opts.placeholder) f.placeholder = opts.placeholder;
  if (opts.title) f.title = opts.title;
  if (opts.size) f.classList.add(`size-${opts.size}`);
  const l = document.createElement('vscode-label');
  l.setAttribute('for', id);
  l.textContent = label;
  return { field: f, wrap: el('span', { class: 'control' }, l, f) };
}

/** A radio group with a visible caption; `onChange` gets the chosen value (click, Space or arrow keys). */
export function radioGroup<V extends string>(id: string, label: string, options: ReadonlyArray<readonly [V, string]>, value: V, onChange: (v: V) => void) {
  const g = document.createElement('vscode-radio-group') as VscodeRadioGroup;
  g.id = id;
  g.setAttribute('aria-label', label);
  for (const [v, text] of options) {
    const r = document.createElement('vscode-radio');
    r.id = `${id}-${v}`;
    r.name = id;
    r.value = v;
    r.label = text;
    r.checked = v === value;
    g.append(r);
  }
  const wired = wireRadioGroup(g, (v) => {
    if (options.some(([o]) => o === v)) onChange(v as V);
  });
  const set = (v: V) => wired.set(v);
  return { group: g, wrap: el('span', { class: 'control' }, el('span', { class: 'caption', 'aria-hidden': 'true' }, label), g), set };
}

export function button(id: string, text: string, opts: { secondary?: boolean; title?: string; icon?: string } = {}): VscodeButton {
  const b = document.createElement('vscode-button') as VscodeButton;
  b.id = id;
  b.textContent = text;
  if (opts.secondary) b.secondary = true;
  if (opts.title) b.title = opts.title;
  return b;
}

/**
 * A checkbox labelled by its slotted text: that names the inner (focused) input, which a host aria-label
 * does not reach. With `spokenLabel` the visible `label` is for the eyes only and screen readers hear
 * `spokenLabel` instead (e.g. "8" is read "8×8 feature maps of G").
 */
export function checkbox(id: string, label: string, checked: boolean, spokenLabel?: string): VscodeCheckbox {
  const c = document.createElement('vscode-checkbox') as VscodeCheckbox;
  c.id = id;
  if (spokenLabel) c.append(el('span', { 'aria-hidden': 'true' }, label), el('span', { class: 'sr-only' }, spokenLabel));
  else c.append(label);
  c.checked = checked;
  return c;
}

/** A native range slider with a visible label (its accessible name, without the read-out) and live value read-out. */
export function slider(id: string, label: string, o: { min: number; max: number; step: number; value: number; format?: (v: number) => string; title?: string }) {
  const input = el('input', { id, type: 'range', min: String(o.min), max: String(o.max), step: String(o.step), 'aria-labelledby': `${id}-label` });
  input.value = String(o.value);
  if (o.title) input.title = o.title;
  const fmt = o.format ?? ((v: number) => v.toFixed(2));
  const out = el('output', { id: `${id}-value`, for: id }, fmt(o.value));
  input.addEventListener('input', () => (out.textContent = fmt(Number(input.value))));
  const wrap = el('span', { class: 'control' }, el('label', { for: id, id: `${id}-label` }, label), input, out);
  return { input, out, wrap, set: (v: number) => { input.value = String(v); out.textContent = fmt(v); } };
}

/** Error text of a failed request (the host's UserError text, minus the Error: prefix). */
export function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Error: /, '');
}

/** Formats milliseconds for status lines. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Display size of a sample cell: small models are scaled up by an integer factor (crisp pixels). */
export function cellSize(res: number, target = 96, max = 256): number {
  if (res >= target) return Math.min(res, max);
  return res * Math.ceil(target / res);
}

/**
 * The class of a conditional model: a labelled drop-down (type to filter when there are many classes;
 * arrow keys and Enter work as in VS Code's own selects). `setClasses` fills it; `onChange` gets the class.
 */
export function classPicker(id: string, label: string, onChange: (label: number) => void) {
  const select = document.createElement('vscode-single-select') as VscodeSingleSelect;
  select.id = id;
  select.label = label;
  select.title = 'Every sample is generated for this class (the one-hot c of the conditional mapping network)';
  const l = document.createElement('vscode-label');
  l.setAttribute('for', id);
  l.textContent = label;
  select.addEventListener('change', () => {
    const v = Number(select.value);
    if (Number.isInteger(v) && v >= 0) onChange(v);
  });
  const setClasses = (count: number, value: number) => {
    select.combobox = count > 20;
    select.replaceChildren(...Array.from({ length: count }, (_, i) => {
      const o = document.createElement('vscode-option');
      o.value = String(i);
      o.textContent = String(i);
      if (i === value) o.selected = true;
      return o;
    }));
    select.value = String(value);
  };
  const wrap = el('span', { class: 'control' }, l, select);
  /** Shows the picker for a conditional model (keeping a valid saved class, else 0) or hides it; returns the class in use. */
  const sync = (state: { label?: number }, count: number | undefined): void => {
    if ((count ?? 0) > 0) {
      if (state.label === undefined || state.label >= count!) state.label = 0;
      setClasses(count!, state.label);
      wrap.hidden = false;
    } else {
      delete state.label;
    }
  };
  return { select, wrap, setClasses, sync };
}

/** What seeds mean for this snapshot, under the grid: numpy's RandomState for official pickles (as generate.py), ours otherwise. */
export function seedNote(p: HTMLElement, origin: 'gan-inspector' | 'official' | undefined): void {
  p.dataset.origin = origin ?? 'gan-inspector';
  p.hidden = false;
  p.textContent = origin === 'official'
    ? 'Seeds as in the official generate.py: z = numpy.random.RandomState(seed).randn(1, z_dim), so seed 42 here is generate.py --seeds=42 ' +
      '(noise const = --noise-mode=const, ψ = --trunc).'
    : "Seeds are GAN Inspector's: seed s gives the same z in every run with the same z size, and cell i of the trainer's fakes*.png grids is seed i.";
}
