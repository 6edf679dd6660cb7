/**
 * Keyboard and screen-reader helpers shared by every panel: roving tabindex for groups of like items,
 * sticky-header-aware focus scrolling, quiet live-region updates and <vscode-radio-group> fixes.
 * Plain DOM only (no @vscode-elements imports), so the chart panels stay lean.
 */

export type RovingOrientation = 'horizontal' | 'vertical' | 'grid';

export interface RovingOptions {
  orientation: RovingOrientation;
  /** Items per row ('grid' only): Up/Down move by this many. */
  columns?: () => number;
  /** Identifies an item across re-renders, so the Tab stop stays on "the same" item (default: its position). */
  key?: (item: HTMLElement) => string;
}

const NEXT: Record<RovingOrientation, string[]> = { horizontal: ['ArrowRight'], vertical: ['ArrowDown'], grid: ['ArrowRight'] };
const PREV: Record<RovingOrientation, string[]> = { horizontal: ['ArrowLeft'], vertical: ['ArrowUp'], grid: ['ArrowLeft'] };

/**
 * Roving tabindex over the items of `container` matching `selector`: the group is one Tab stop, the arrow
 * keys (Up/Down by a row in a grid), Home and End move between its items. Items may be re-rendered at will:
 * a MutationObserver keeps exactly one of them in the Tab order. Marks the container `data-roving`.
 */
export function roving(container: HTMLElement, selector: string, opts: RovingOptions): { refresh(): void } {
  let current: string | null = null;
  const items = () => [...container.querySelectorAll<HTMLElement>(selector)].filter((e) => !e.hidden && !(e as HTMLButtonElement).disabled);
  const keyOf = (e: HTMLElement, all: HTMLElement[]) => (opts.key ? opts.key(e) : String(all.indexOf(e)));
  const refresh = () => {
    const all = items();
    const cur = all.find((e) => keyOf(e, all) === current) ?? all[0];
    for (const e of all) {
      const t = e === cur ? '0' : '-1';
      if (e.getAttribute('tabindex') !== t) e.setAttribute('tabindex', t);
    }
  };
  container.dataset.roving = opts.orientation;
  container.addEventListener('focusin', (ev) => {
    const all = items();
    const item = all.find((e) => e === ev.target || e.contains(ev.target as Node));
    if (!item) return;
    current = keyOf(item, all);
    refresh();
  });
  container.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const all = items();
    const i = all.findIndex((e) => e === ev.target);
    if (i < 0) return;
    const cols = opts.orientation === 'grid' ? Math.max(1, opts.columns?.() ?? 1) : 1;
    let j: number;
    if (NEXT[opts.orientation].includes(ev.key)) j = i + 1;
    else if (PREV[opts.orientation].includes(ev.key)) j = i - 1;
    else if (opts.orientation === 'grid' && ev.key === 'ArrowDown') j = i + cols;
    else if (opts.orientation === 'grid' && ev.key === 'ArrowUp') j = i - cols;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = all.length - 1;
    else return;
    ev.preventDefault();
    if (j < 0 || j >= all.length) return; // no wrap-around: the edges are felt
    current = keyOf(all[j], all);
    refresh();
    all[j].focus();
  });
  new MutationObserver(refresh).observe(container, { childList: true, subtree: true });
  refresh();
  return { refresh };
}

/**
 * Keeps keyboard focus from landing under the sticky `header`: focus scrolling (and scrollIntoView) stop
 * below it, whatever height the header wraps to.
 */
export function keepFocusBelow(header: HTMLElement): void {
  const set = () => document.documentElement.style.setProperty('scroll-padding-top', `${header.offsetHeight + 8}px`);
  new ResizeObserver(set).observe(header);
  set();
}

/** Sets `el`'s text only when it changes, so a live region (role=alert/status) does not repeat itself on every keystroke. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

interface RadioLike extends HTMLElement {
  checked: boolean;
  value: string;
  updateComplete?: Promise<unknown>;
}

/**
 * Wires a <vscode-radio-group> of <vscode-radio>s. `onChange` gets the checked value after a click, Space
 * or an arrow key: the group checks the next radio on an arrow key without any change event, so the
 * reflected `checked` attribute is watched instead. The Tab stop starts on the checked radio (not the
 * first), and each radio's inner input (a checkbox inside the component) is exposed as a radio.
 */
export function wireRadioGroup(group: HTMLElement, onChange: (value: string) => void): { set(value: string): void } {
  const radios = () => [...group.querySelectorAll('vscode-radio')] as RadioLike[];
  const checkedValue = () => radios().find((r) => r.hasAttribute('checked'))?.value ?? null;
  let last = radios().find((r) => r.checked)?.value ?? null;
  new MutationObserver(() => {
    const v = checkedValue();
    if (v === null || v === last) return;
    last = v;
    onChange(v);
  }).observe(group, { attributes: true, attributeFilter: ['checked'], subtree: true });
  const fixUp = () => {
    const all = radios();
    const c = all.find((r) => r.checked) ?? all[0];
    for (const r of all) {
      r.tabIndex = r === c ? 0 : -1;
      r.shadowRoot?.querySelector('input')?.setAttribute('role', 'radio');
    }
  };
  // After the group's first render and its slotchange handler (which puts the Tab stop on the first radio).
  void customElements.whenDefined('vscode-radio-group').then(() => (group as RadioLike).updateComplete).then(() => setTimeout(fixUp, 0));
  return {
    set(value: string) {
      last = value;
      for (const r of radios()) r.checked = r.value === value;
      setTimeout(fixUp, 0);
    },
  };
}

/**
 * Space on a <vscode-button> clicks it on keydown but does not cancel the key's default, so the page also
 * scrolls by a screen; cancel that once for the whole page.
 */
export function fixButtonSpace(): void {
  document.addEventListener('keydown', (e) => {
    if (e.key === ' ' && (e.target as Element | null)?.localName === 'vscode-button') e.preventDefault();
  });
}
