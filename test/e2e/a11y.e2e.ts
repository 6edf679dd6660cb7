/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Keyboard and screen-reader basics of the four webviews in a real VS Code (code-server): loss curves,
 * checkpoint viewer, segmentation and compare runs, on two tiny runs trained by the CLI in setup. In each
 * webview, real Tab presses from the start of the document walk every Tab stop (descending into the open
 * shadow roots of @vscode-elements components) and it is checked that
 *  - every visible, enabled interactive element is a Tab stop that was reached, or a member of a roving
 *    group (arrow keys) one of whose members was reached; nothing clickable is mouse-only unless listed
 *    below with its keyboard alternative;
 *  - every Tab stop has an accessible name, computed in the page (aria-labelledby / aria-label / label /
 *    content / alt / title) AND by Chromium's own accessibility tree (CDP), which also gives its role;
 *  - every Tab stop shows a focus ring in the theme's focus colour (an outline or box-shadow, on the element
 *    or inside its shadow root, present while focused and gone after) and is not hidden under the sticky header;
 * then one control per panel is operated by keyboard only (Space / Enter / arrow keys) and its effect checked.
 * No CSP violations or console errors.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CDPSession, FrameLocator } from 'playwright-core';
import { trainWithCli, waitFor } from './lib/waits';
import { e2eSuite } from './lib/suite';
import type { Workbench } from './lib/workbench';

const SNAP = 'network-snapshot-000000.016';



//#region in-page probe

/** One Tab stop as the page sees it. */
interface Stop {
  /** Stable number of the focused top-level element (the shadow host for a component). */
  n: number;
  what: string;
  /** The deepest focused element is inside a shadow root. */
  inShadow: boolean;
  role: string;
  name: string;
  nameFrom: string;
  /** Outline / box-shadow entries of the element (and its shadow tree) while focused. */
  rings: string[];
  /** Why it cannot be seen: '' (visible), 'under <tag#id>' or 'off-screen'. */
  obscured: string;
  /** Member of a roving group (data-roving or role=radiogroup). */
  roving: boolean;
}

interface StepResult {
  /** The previous stop, now unfocused: the ring entries that went away with focus. */
  prev: { n: number; ringOnlyWhenFocused: string[] } | null;
  stop: Stop | null;
}

interface Inventory {
  /** Visible, enabled interactive elements that should be Tab stops. */
  tabStops: { n: number; what: string }[];
  /** Visible roving groups and the numbers of their enabled members. */
  groups: { what: string; members: number[] }[];
  /** Interactive elements taken out of the Tab order (tabindex=-1) outside any roving group. */
  removed: string[];
  /** Visible elements with a pointer cursor that neither are nor sit inside anything focusable. */
  pointerOnly: string[];
  /** <img> without an alt attribute, and role=img elements without a name. */
  unnamedImages: string[];
  /** The theme's focus colour as a computed colour. */
  focusColor: string;
}

/**
 * Installs window.__ganA11y in the webview document (idempotent per document). Everything runs in the page,
 * so only arrow functions bound to consts: the test transpiler's keepNames wraps them in __name(), which is
 * made a no-op there first.
 */
function installProbe(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  g.__name ??= (f: unknown) => f;
  if (g.__ganA11y) return;
  const ids = new WeakMap<Element, number>();
  let nextId = 1;
  const idOf = (e: Element) => {
    let i = ids.get(e);
    if (!i) ids.set(e, (i = nextId++));
    return i;
  };
  const CUSTOM = new Set(['vscode-button', 'vscode-checkbox', 'vscode-radio', 'vscode-textfield', 'vscode-textarea', 'vscode-single-select', 'vscode-multi-select']);
  const NATIVE = 'button, a[href], input:not([type="hidden"]), select, textarea, summary, [tabindex], [contenteditable=""], [contenteditable="true"]';
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim();
  const describe = (e: Element) => {
    const id = e.id ? `#${e.id}` : '';
    const data = [...e.attributes].filter((a) => a.name.startsWith('data-') && a.name !== 'data-roving').slice(0, 2).map((a) => `[${a.name}="${a.value}"]`).join('');
    const cls = !id && e.classList.length ? `.${[...e.classList].join('.')}` : '';
    const text = norm(e.textContent ?? '').slice(0, 30);
    return `${e.localName}${id}${cls}${data}${text ? ` "${text}"` : ''}`;
  };
  // Text of a subtree in the flat tree (shadow roots and slots resolved), as accessible-name content.
  const textOf = (n: Node, skip?: Element): string => {
    if (n.nodeType === Node.TEXT_NODE) return n.textContent ?? '';
    if (!(n instanceof Element) || n === skip) return '';
    if (n.getAttribute('aria-hidden') === 'true' || n.localName === 'style' || n.localName === 'script') return '';
    if (n instanceof HTMLElement && n.hidden) return '';
    const aria = n.getAttribute('aria-label');
    if (aria) return ` ${aria} `;
    if (n instanceof HTMLImageElement) return n.alt;
    if (n instanceof HTMLSlotElement) return n.assignedNodes({ flatten: true }).map((c) => textOf(c, skip)).join('');
    if (n instanceof HTMLInputElement || n instanceof HTMLSelectElement || n instanceof HTMLTextAreaElement) return '';
    const kids = n.shadowRoot ? [...n.shadowRoot.childNodes] : [...n.childNodes];
    const inner = kids.map((c) => textOf(c, skip)).join('');
    return getComputedStyle(n).display.startsWith('inline') ? inner : ` ${inner} `;
  };
  const roleOf = (e: Element): string => {
    const r = e.getAttribute('role');
    if (r) return r;
    if (e instanceof HTMLButtonElement) return 'button';
    if (e instanceof HTMLAnchorElement) return 'link';
    if (e instanceof HTMLSelectElement) return 'combobox';
    if (e instanceof HTMLTextAreaElement) return 'textbox';
    if (e instanceof HTMLInputElement) return ({ checkbox: 'checkbox', radio: 'radio', range: 'slider', button: 'button', submit: 'button' } as Record<string, string>)[e.type] ?? 'textbox';
    return e.localName;
  };
  const nameOf = (d: Element): { name: string; from: string } => {
    const root = d.getRootNode() as Document | ShadowRoot;
    const lb = d.getAttribute('aria-labelledby');
    if (lb) {
      const t = norm(lb.split(/\s+/).map((id) => { const r = root.getElementById(id); return r ? textOf(r) : ''; }).join(' '));
      if (t) return { name: t, from: 'aria-labelledby' };
    }
    const al = norm(d.getAttribute('aria-label') ?? '');
    if (al) return { name: al, from: 'aria-label' };
    const labels = (d as HTMLInputElement).labels;
    if (labels?.length) {
      const t = norm([...labels].map((l) => textOf(l, d)).join(' '));
      if (t) return { name: t, from: 'label' };
    }
    if (['button', 'link', 'checkbox', 'radio', 'switch', 'tab', 'menuitem', 'option', 'treeitem'].includes(roleOf(d)) && !(d instanceof HTMLInputElement)) {
      const t = norm(textOf(d));
      if (t) return { name: t, from: 'content' };
    }
    const title = norm(d.getAttribute('title') ?? '');
    if (title) return { name: title, from: 'title' };
    const host = (root as ShadowRoot).host;
    if (host) {
      const h = norm(host.getAttribute('aria-label') ?? '') || norm(String((host as unknown as { label?: string }).label ?? ''));
      if (h) return { name: h, from: 'host label' };
    }
    return { name: '', from: '' };
  };
  // The element, its light descendants and the shadow trees among them: where a focus ring may be drawn.
  const zone = (u: Element): Element[] => {
    const out: Element[] = [u, ...u.querySelectorAll('*')];
    for (const e of [...out]) if (e.shadowRoot) out.push(...e.shadowRoot.querySelectorAll('*'));
    return out;
  };
  const rings = (u: Element): string[] => zone(u).flatMap((e, i) => {
    const cs = getComputedStyle(e);
    const o = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 ? `outline ${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}` : '';
    const b = cs.boxShadow && cs.boxShadow !== 'none' ? `box-shadow ${cs.boxShadow}` : '';
    return o || b ? [`${i} ${e.localName}: ${[o, b].filter(Boolean).join(' ')}`] : [];
  });
  const visible = (e: Element) => {
    if (!e.checkVisibility({ checkVisibilityCSS: true })) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const enabled = (e: Element) => !(e as HTMLButtonElement).disabled && !e.hasAttribute('disabled') && e.getAttribute('aria-disabled') !== 'true' && !e.closest('[inert]');
  const rovingGroupOf = (e: Element) => e.parentElement?.closest('[data-roving], [role="radiogroup"]') ?? null;
  // Light DOM plus open shadow roots that are not a component's own internals.
  const allElements = (): Element[] => {
    const out: Element[] = [];
    const walk = (root: ParentNode) => {
      for (const e of root.querySelectorAll('*')) {
        out.push(e);
        if (e.shadowRoot && !CUSTOM.has(e.localName)) walk(e.shadowRoot);
      }
    };
    walk(document);
    return out;
  };
  const isInteractive = (e: Element) => e.matches(NATIVE) || CUSTOM.has(e.localName);
  let prev: { u: Element; n: number; focusedRings: string[] } | null = null;
  const finishPrev = () => {
    if (!prev) return null;
    const now = rings(prev.u);
    const r = { n: prev.n, ringOnlyWhenFocused: prev.focusedRings.filter((x) => !now.includes(x)) };
    prev = null;
    return r;
  };
  g.__ganA11y = {
    reset: () => { prev = null; },
    step: (): StepResult => {
      const before = finishPrev();
      const u = document.activeElement;
      if (!document.hasFocus() || !u || u === document.body || u === document.documentElement) return { prev: before, stop: null };
      let d: Element = u;
      while (d.shadowRoot?.activeElement) d = d.shadowRoot.activeElement;
      const n = idOf(u);
      const focusedRings = rings(u);
      prev = { u, n, focusedRings };
      const { name, from } = nameOf(d);
      const r = u.getBoundingClientRect();
      const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
      let obscured = '';
      if (cx < 0 || cy < 0 || cx >= innerWidth || cy >= innerHeight) obscured = 'off-screen';
      else {
        const hit = document.elementFromPoint(cx, cy);
        if (hit && hit !== u && !u.contains(hit)) obscured = `under ${describe(hit)}`;
      }
      return { prev: before, stop: { n, what: describe(u), inShadow: d !== u, role: roleOf(d), name, nameFrom: from, rings: focusedRings, obscured, roving: rovingGroupOf(u) !== null } };
    },
    inventory: (): Inventory => {
      const els = allElements();
      const tabStops: Inventory['tabStops'] = [];
      const removed: string[] = [];
      const groups = new Map<Element, number[]>();
      for (const e of els) {
        if (!isInteractive(e) || !visible(e) || !enabled(e)) continue;
        const negative = e.hasAttribute('tabindex') && Number(e.getAttribute('tabindex')) < 0;
        const group = rovingGroupOf(e);
        if (group && visible(group)) {
          let m = groups.get(group);
          if (!m) groups.set(group, (m = []));
          m.push(idOf(e));
        } else if (negative) {
          removed.push(describe(e));
        } else {
          tabStops.push({ n: idOf(e), what: describe(e) });
        }
      }
      const pointerOnly: string[] = [];
      for (const e of els) {
        const cur = getComputedStyle(e).cursor;
        if (cur !== 'pointer' && cur !== 'zoom-in') continue;
        // Report where the cursor is set, not every descendant inheriting it.
        if (e.parentElement && getComputedStyle(e.parentElement).cursor === cur) continue;
        if (!visible(e) || e.closest(`${NATIVE}, label, ${[...CUSTOM].join(', ')}`)) continue;
        pointerOnly.push(`${e.localName}${e.classList.length ? `.${[...e.classList].join('.')}` : ''} in ${describe(e.parentElement?.closest('[id]') ?? document.body).split(' ')[0]}`);
      }
      const unnamedImages: string[] = [];
      for (const e of els) {
        if (!visible(e)) continue;
        if (e instanceof HTMLImageElement && !e.hasAttribute('alt')) unnamedImages.push(describe(e));
        if (e.getAttribute('role') === 'img' && !norm(e.getAttribute('aria-label') ?? '') && !e.getAttribute('aria-labelledby')) unnamedImages.push(describe(e));
      }
      const probe = document.createElement('span');
      probe.style.setProperty('color', 'var(--vscode-focusBorder)');
      document.body.append(probe);
      const focusColor = getComputedStyle(probe).color;
      probe.remove();
      return {
        tabStops, removed, pointerOnly: [...new Set(pointerOnly)], unnamedImages, focusColor,
        groups: [...groups].map(([el, members]) => ({ what: describe(el).slice(0, 60), members })),
      };
    },
  };
}

/** Calls a method of the in-page probe (installed by tabWalk). */
async function probe<T>(frame: FrameLocator, method: 'reset' | 'step' | 'inventory'): Promise<T> {
  return frame.locator('body').evaluate((_b, m) => (globalThis as unknown as { __ganA11y: Record<string, () => unknown> }).__ganA11y[m](), method) as Promise<T>;
}

//#endregion

//#region Chromium's accessibility tree (CDP)

interface AxFocus { role: string; name: string }

/** The CDP frame id of a webview's content document (same process as the workbench, so the page's session sees it). */
async function cdpFrameId(cdp: CDPSession, frame: FrameLocator): Promise<string> {
  const href = await frame.locator('body').evaluate(() => location.href);
  const { frameTree } = await cdp.send('Page.getFrameTree');
  type Tree = typeof frameTree;
  // The webview's outer frame and its content frame (#active-frame) share the URL: take the deepest.
  let best: { id: string; depth: number } | undefined;
  const stack: { t: Tree; depth: number }[] = [{ t: frameTree, depth: 0 }];
  while (stack.length) {
    const { t, depth } = stack.pop()!;
    if (t.frame.url === href && (!best || depth > best.depth)) best = { id: t.frame.id, depth };
    stack.push(...(t.childFrames ?? []).map((c) => ({ t: c, depth: depth + 1 })));
  }
  if (!best) throw new Error(`no CDP frame with url ${href}`);
  return best.id;
}

const DEEP_ACTIVE = '(() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a; })()';

/**
 * Role and name of the focused element (the deepest one, inside shadow roots) in Chromium's accessibility
 * tree, found through an isolated world of the frame (null when nothing is focused). (The tree's own
 * "focused" flag is not set in a headless window that never had OS focus.)
 */
async function axFocused(cdp: CDPSession, contextId: number): Promise<AxFocus | null> {
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression: DEEP_ACTIVE, contextId, objectGroup: 'a11y' });
  if (exceptionDetails) throw new Error(`evaluating the focused element: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  if (!result.objectId || result.subtype !== 'node') return null;
  try {
    const { node } = await cdp.send('DOM.describeNode', { objectId: result.objectId });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { backendNodeId: node.backendNodeId, fetchRelatives: false });
    const n = nodes[0];
    return n ? { role: String(n.role?.value ?? ''), name: String(n.name?.value ?? '').trim() } : null;
  } finally {
    await cdp.send('Runtime.releaseObjectGroup', { objectGroup: 'a11y' });
  }
}

//#endregion

//#region the audit

interface Audit {
  stops: (Stop & { ax: AxFocus | null; ringOnlyWhenFocused: string[] })[];
  inv: Inventory;
}

/**
 * Clicks the empty top-left corner of the document (nothing focused, the sequential-focus starting point at
 * the top), then presses Tab until focus leaves the webview, recording every stop; then takes the inventory.
 */
async function tabWalk(wb: Workbench, cdp: CDPSession, frame: FrameLocator): Promise<Audit> {
  const frameId = await cdpFrameId(cdp, frame);
  const { executionContextId } = await cdp.send('Page.createIsolatedWorld', { frameId, worldName: 'gan-a11y' });
  await frame.locator('body').evaluate(() => window.scrollTo(0, 0));
  await frame.locator('body').click({ position: { x: 3, y: 3 } });
  await frame.locator('body').evaluate(installProbe);
  await probe(frame, 'reset');
  const first = await probe<StepResult>(frame, 'step');
  assert.equal(first.stop, null, `nothing is focused after clicking the empty corner (got ${first.stop?.what})`);
  const stops: Audit['stops'] = [];
  for (let i = 0; i < 150; i++) {
    await wb.page.keyboard.press('Tab');
    const r = await probe<StepResult>(frame, 'step');
    if (r.prev) {
      const s = stops.find((x) => x.n === r.prev!.n && x.ringOnlyWhenFocused.length === 0);
      if (s) s.ringOnlyWhenFocused = r.prev.ringOnlyWhenFocused;
    }
    if (!r.stop) break;
    if (stops.some((s) => s.n === r.stop!.n)) throw new Error(`Tab came back to ${r.stop.what}: a focus trap or wrap-around`);
    stops.push({ ...r.stop, ax: await axFocused(cdp, executionContextId), ringOnlyWhenFocused: [] });
  }
  assert.ok(stops.length > 0, 'Tab reached at least one control');
  return { stops, inv: await probe<Inventory>(frame, 'inventory') };
}

/**
 * Asserts the audit rules; `allowPointerOnly` lists mouse-only things that have a keyboard alternative.
 * The Tab order with names, roles and rings is written to <workDir>/a11y-<panel>.txt.
 */
function checkAudit(panel: string, a: Audit, workDir: string, allowPointerOnly: RegExp[] = []): void {
  const reached = new Set(a.stops.map((s) => s.n));
  const table = a.stops.map((s, i) => `  ${i + 1}. ${s.what} → ${s.role} "${s.name}" (${s.nameFrom}; AX ${s.ax?.role} "${s.ax?.name}")${s.obscured ? ` OBSCURED ${s.obscured}` : ''}${s.ringOnlyWhenFocused.length ? '' : ' NO RING'}`).join('\n');
  const ctx = `\n${panel}: ${a.stops.length} Tab stops\n${table}`;
  fs.writeFileSync(path.join(workDir, `a11y-${panel}.txt`), `${ctx.trim()}\n\nrings while focused:\n${a.stops.map((s) => `  ${s.what}: ${s.ringOnlyWhenFocused.join(' | ')}`).join('\n')}\n\nroving groups:\n${a.inv.groups.map((g) => `  ${g.what} (${g.members.length})`).join('\n')}\n\nmouse-only (allowed): ${JSON.stringify(a.inv.pointerOnly)}\n`);
  const missed = a.inv.tabStops.filter((t) => !reached.has(t.n)).map((t) => t.what);
  assert.deepEqual(missed, [], `interactive elements Tab did not reach${ctx}`);
  const groupsMissed = a.inv.groups.filter((g) => !g.members.some((m) => reached.has(m))).map((g) => g.what);
  assert.deepEqual(groupsMissed, [], `roving groups Tab did not enter${ctx}`);
  for (const g of a.inv.groups) {
    assert.equal(g.members.filter((m) => reached.has(m)).length, 1, `exactly one Tab stop in the roving group ${g.what}${ctx}`);
  }
  assert.deepEqual(a.inv.removed, [], `interactive elements with tabindex=-1 outside a roving group${ctx}`);
  const pointerOnly = a.inv.pointerOnly.filter((p) => !allowPointerOnly.some((r) => r.test(p)));
  assert.deepEqual(pointerOnly, [], `clickable things without keyboard access${ctx}`);
  assert.deepEqual(a.inv.unnamedImages, [], `images without alt text / role=img without a name${ctx}`);
  const unnamed = a.stops.filter((s) => !s.name).map((s) => s.what);
  assert.deepEqual(unnamed, [], `Tab stops without an accessible name (page)${ctx}`);
  const axUnnamed = a.stops.filter((s) => !s.ax?.name).map((s) => `${s.what} (AX ${JSON.stringify(s.ax)})`);
  assert.deepEqual(axUnnamed, [], `Tab stops without a name in Chromium's accessibility tree${ctx}`);
  const noRing = a.stops.filter((s) => !s.ringOnlyWhenFocused.length).map((s) => `${s.what} rings: ${JSON.stringify(s.rings)}`);
  assert.deepEqual(noRing, [], `Tab stops without a visible focus indicator${ctx}`);
  const color = (x: string) => /(rgba?\([^)]*\))/.exec(x)?.[1] ?? '';
  const offColour = a.stops.filter((s) => !s.ringOnlyWhenFocused.some((r) => color(r) === a.inv.focusColor)).map((s) => `${s.what}: ${s.ringOnlyWhenFocused.join(' | ')}`);
  assert.deepEqual(offColour, [], `focus rings not in the theme's focus colour ${a.inv.focusColor}${ctx}`);
  const obscured = a.stops.filter((s) => s.obscured).map((s) => `${s.what}: ${s.obscured}`);
  assert.deepEqual(obscured, [], `focused elements hidden${ctx}`);
  console.log(`[a11y] ${panel}: ${a.stops.length} Tab stops, ${a.inv.groups.length} roving groups, all named and ringed`);
}

/** A short description of the focused element of the frame (its top-level element). */
async function focused(frame: FrameLocator): Promise<{ id: string; cls: string; data: Record<string, string | undefined>; pressed: string | null; text: string }> {
  return frame.locator('body').evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    return { id: e?.id ?? '', cls: e?.className ?? '', data: { ...(e?.dataset ?? {}) }, pressed: e?.getAttribute('aria-pressed') ?? null, text: (e?.textContent ?? '').trim() };
  });
}

//#endregion

let ggdrRun = '';
let baselineRun = '';

e2eSuite('a11y', {
  settings: { 'ganInspector.runsRoots': ['runs'] },
  workspace: (dir) => {
    ggdrRun = trainWithCli(dir, ['--kimg', '0.016']);
    baselineRun = trainWithCli(dir, ['--kimg', '0.008', '--no-ggdr']);
  },
}, (test) => {
  let cdp: CDPSession;
  let viewer: FrameLocator;

  test('loss curves: Tab reaches every control, all named and ringed; legend, x-axis radios, chart read-out and zoom work by keyboard', async ({ wb, timings, workDir }) => {
    cdp = await wb.context.newCDPSession(wb.page);
    await cdp.send('Accessibility.enable');
    await wb.treeItem('Runs', ggdrRun, { timeoutMs: 60_000 });
    await wb.runCommand('GAN Inspector: Open Loss Curves');
    await wb.pickQuickItem(ggdrRun);
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    await waitFor('the loss charts', () => frame.locator('body').evaluate((b) => ({
      rows: b.querySelectorAll('#latest-values tr[data-series]').length, charts: b.querySelectorAll('.chart canvas').length, title: b.querySelector('#run-title')?.textContent,
    })), (r) => r.rows > 0 && r.charts > 0 && r.title === ggdrRun);
    const t0 = Date.now();
    const audit = await tabWalk(wb, cdp, frame);
    timings.lossWalkMs = Date.now() - t0;
    checkAudit('loss', audit, workDir);
    assert.ok(audit.stops.some((s) => s.what.startsWith('div.chart') && /chart, \d+ of \d+ series, kimg .* Latest: /.test(s.name)), 'a chart is a Tab stop whose name summarises it');
    assert.ok(audit.stops.some((s) => s.role === 'radio' && s.ax?.role === 'radio' && s.name === 'kimg'), 'the x-axis radios are radios in the accessibility tree');
    await wb.screenshot('a11y-1-loss');

    // A legend entry: Space hides its series (the chart summary says so), arrow keys move along the legend.
    const toggle = frame.locator('.group ul.legend button.series-toggle[tabindex="0"]').first();
    const series = (await toggle.getAttribute('data-series'))!;
    const chart = frame.locator('.group', { has: frame.locator(`button.series-toggle[data-series="${series}"]`) }).locator('.chart');
    const shownBefore = Number(/, (\d+) of \d+ series/.exec((await chart.getAttribute('aria-label')) ?? '')?.[1]);
    await toggle.focus();
    await wb.page.keyboard.press('Space');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false', `Space hid ${series}`);
    await waitFor('the chart summary to count one series less', () => chart.getAttribute('aria-label'), (l) => (l ?? '').includes(`, ${shownBefore - 1} of `));
    await wb.page.keyboard.press('Space');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true', `Space showed ${series} again`);
    const legendSize = await frame.locator('.group ul.legend').first().locator('button').count();
    if (legendSize > 1) {
      await wb.page.keyboard.press('ArrowRight');
      const f = await focused(frame);
      assert.ok(f.cls.includes('series-toggle') && f.data.series !== series, `ArrowRight moved to the next legend entry (${JSON.stringify(f)})`);
    }

    // The x-axis radios by arrow keys: the group checks "wall time" and the charts follow.
    await frame.locator('#x-axis-kimg').focus();
    await wb.page.keyboard.press('ArrowRight');
    await waitFor('the charts on wall time', () => chart.getAttribute('aria-label'), (l) => / series, wall time /.test(l ?? ''));
    await wb.page.keyboard.press('ArrowLeft');
    await waitFor('the charts back on kimg', () => chart.getAttribute('aria-label'), (l) => / series, kimg /.test(l ?? ''));

    // The chart by keyboard: End / Home put the read-out on the last / first tick, live while focused.
    await chart.focus();
    assert.equal(await frame.locator('#hover-readout').getAttribute('aria-live'), 'polite');
    const kimgs = await frame.locator('#latest-values tr[data-series] td.kimg').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    await wb.page.keyboard.press('End');
    const end = await waitFor('the read-out at the last tick', () => frame.locator('#hover-readout .x').getAttribute('data-x'), (x) => x !== null);
    assert.equal(Number(end), Math.max(...kimgs), 'End = the latest kimg');
    await wb.page.keyboard.press('Home');
    await waitFor('the read-out at the first tick', () => frame.locator('#hover-readout .x').getAttribute('data-x'), (x) => Number(x) < Number(end));
    // = / - zoom in and out around the cursor; Enter on "Reset zoom" resets.
    const zoomed = async () => / \(zoomed\)\. /.test((await chart.getAttribute('aria-label')) ?? '');
    await wb.page.keyboard.press('=');
    await waitFor('the chart zoomed in', zoomed, (z) => z);
    await wb.page.keyboard.press('-');
    await waitFor('the chart zoomed out', zoomed, (z) => !z);
    await wb.page.keyboard.press('=');
    await waitFor('the chart zoomed in again', zoomed, (z) => z);
    // Shift+Right / Shift+Left pan the zoomed range: the name's "showing a to b" moves by a tenth, as wide as before.
    const shown = async () => {
      const m = /, showing (\S+) to (\S+) \(zoomed\)\. /.exec((await chart.getAttribute('aria-label')) ?? '');
      return m ? [Number(m[1]), Number(m[2])] : null;
    };
    const r0 = (await shown())!;
    assert.ok(r0 && r0[1] > r0[0], `the chart names its shown range (${JSON.stringify(r0)})`);
    await wb.page.keyboard.press('Shift+ArrowRight');
    const r1 = await waitFor('the range panned right', shown, (r) => r !== null && r[0] > r0[0]);
    assert.ok(Math.abs((r1![1] - r1![0]) - (r0[1] - r0[0])) < 1e-4 * (r0[1] - r0[0]) + 1e-9, `pan keeps the width (${r0} → ${r1})`);
    assert.ok(/Shift with Left and Right pans/.test((await chart.getAttribute('aria-label')) ?? ''), 'the chart says how to pan');
    await wb.page.keyboard.press('Shift+ArrowLeft');
    await waitFor('the range panned back', shown, (r) => r !== null && Math.abs(r[0] - r0[0]) < 1e-9);
    await wb.screenshot('a11y-2-loss-keyboard');
    await frame.locator('#reset-zoom').focus();
    await wb.page.keyboard.press('Enter');
    await waitFor('Reset zoom by Enter', zoomed, (z) => !z);
  });

  test('checkpoint viewer: Tab reaches every control; the sample grid is one Tab stop with arrow keys, Enter enlarges, Escape returns', async ({ wb, timings, workDir }) => {
    await wb.runCommand('GAN Inspector: Open Checkpoint Viewer');
    await wb.pickQuickItem(ggdrRun);
    await wb.pickQuickItem(SNAP);
    viewer = await waitFor('the viewer', async () => {
      const f = await wb.webviewFrame(undefined, { timeoutMs: 5000 });
      const ok = await f.locator('body').evaluate((b) => b.getAttribute('data-panel') === 'viewer' && Number(b.querySelector('#grid')?.getAttribute('data-render-count') ?? 0) >= 1, { timeout: 2000 });
      return ok ? f : null;
    }, (f) => f !== null, 90_000) as FrameLocator;
    const t0 = Date.now();
    const audit = await tabWalk(wb, cdp, viewer);
    timings.viewerWalkMs = Date.now() - t0;
    checkAudit('viewer', audit, workDir);
    assert.equal(audit.stops.filter((s) => s.what.startsWith('button.sample')).length, 1, 'the 16 samples are one Tab stop');
    await wb.screenshot('a11y-3-viewer');

    // Arrow keys in the grid (4 columns): 0 → 1 → 5; Enter opens seed 5 with focus on Close; Escape closes and returns to it.
    await viewer.locator('#grid .sample[tabindex="0"]').focus();
    assert.equal((await focused(viewer)).data.seed, '0');
    await wb.page.keyboard.press('ArrowRight');
    assert.equal((await focused(viewer)).data.seed, '1');
    await wb.page.keyboard.press('ArrowDown');
    assert.equal((await focused(viewer)).data.seed, '5');
    await wb.page.keyboard.press('Enter');
    const caption = viewer.locator('#detail-caption');
    await caption.waitFor({ state: 'visible' });
    assert.match((await caption.textContent()) ?? '', /^Seed 5 · /);
    assert.equal((await focused(viewer)).id, 'detail-close', 'focus moves into the dialog');
    await wb.screenshot('a11y-4-viewer-detail');
    await wb.page.keyboard.press('Escape');
    await caption.waitFor({ state: 'hidden' });
    assert.equal((await focused(viewer)).data.seed, '5', 'focus returns to the sample');

    // The network radios by arrow key re-render the grid with G.
    const before = Number(await viewer.locator('#grid').getAttribute('data-render-count'));
    await viewer.locator('#which-G_ema').focus();
    await wb.page.keyboard.press('ArrowRight');
    await waitFor('a grid rendered with G', () => viewer.locator('#grid').evaluate((g) => ({ which: g.getAttribute('data-which'), count: Number(g.getAttribute('data-render-count')) })),
      (r) => r.which === 'G' && r.count > before);
  });

  test('segmentation: Tab reaches every control; the cluster tables are roving groups and Space highlights a cluster', async ({ wb, timings, workDir }) => {
    // Opened from the viewer by keyboard: Enter on its "Cluster feature maps…" button.
    await viewer.locator('#open-segmentation').focus();
    await wb.page.keyboard.press('Enter');
    const seg = await waitFor('the segmentation panel with results', async () => {
      const f = await wb.webviewFrame(undefined, { timeoutMs: 5000 });
      const ok = await f.locator('body').evaluate((b) => b.getAttribute('data-panel') === 'segmentation' && Number(b.querySelector('#results')?.getAttribute('data-run-count') ?? 0) >= 1, { timeout: 2000 });
      return ok ? f : null;
    }, (f) => f !== null, 90_000) as FrameLocator;
    const t0 = Date.now();
    const audit = await tabWalk(wb, cdp, seg);
    timings.segmentationWalkMs = Date.now() - t0;
    // The maps are clickable too; the keyboard way to highlight a cluster is the shares tables.
    checkAudit('segmentation', audit, workDir, [/^canvas in div#rows$/]);
    const boxes = audit.stops.filter((s) => s.what.startsWith('vscode-checkbox#res-'));
    assert.ok(boxes.some((s) => s.ax?.role === 'checkbox' && /^8×8 feature maps of G$/.test(s.ax.name)), `the resolution checkboxes say what they cluster: ${JSON.stringify(boxes.map((s) => s.ax))}`);
    await wb.screenshot('a11y-5-segmentation');

    const first = seg.locator('#shares button.pick[tabindex="0"]');
    await first.focus();
    const start = await focused(seg);
    await wb.page.keyboard.press('ArrowDown');
    const next = await focused(seg);
    assert.equal(Number(next.data.cluster), Number(start.data.cluster) + 1, 'ArrowDown moves to the next cluster');
    await wb.page.keyboard.press('Space');
    assert.equal((await focused(seg)).pressed, 'true', 'Space highlights it');
    const sel = await seg.locator('body').evaluate(() => (window as unknown as { ganSegmentation: { ui: { selected: unknown } } }).ganSegmentation.ui.selected);
    assert.deepEqual(sel, { res: Number(next.data.space?.slice(1)), cluster: Number(next.data.cluster) });
    await wb.screenshot('a11y-6-segmentation-highlight');
  });

  test('compare runs: Tab reaches every control; the legend is a roving group and Space hides a run', async ({ wb, timings, workDir }) => {
    await wb.runCommand('View: Close All Editors');
    const a = await wb.treeItem('Runs', ggdrRun);
    const b = await wb.treeItem('Runs', baselineRun);
    await a.click();
    await b.click({ modifiers: ['Control'] });
    await wb.runCommand('GAN Inspector: Compare Runs');
    const frame = await wb.webviewFrame(undefined, { timeoutMs: 30_000 });
    await waitFor('the comparison', () => frame.locator('body').evaluate((x) => ({
      rows: x.querySelectorAll('#runs-table tbody tr').length, legend: x.querySelectorAll('#series-legend button').length, chart: x.querySelectorAll('#chart canvas').length,
    })), (r) => r.rows === 2 && r.legend === 2 && r.chart === 1);
    const t0 = Date.now();
    const audit = await tabWalk(wb, cdp, frame);
    timings.compareWalkMs = Date.now() - t0;
    checkAudit('compare', audit, workDir);
    await wb.screenshot('a11y-7-compare');

    await frame.locator('#series-legend button[tabindex="0"]').focus();
    const run = (await focused(frame)).data.run;
    await wb.page.keyboard.press('Space');
    assert.equal((await focused(frame)).pressed, 'false', `Space hid ${run}`);
    await waitFor('the chart summary without it', () => frame.locator('#chart').getAttribute('aria-label'), (l) => /, 1 of 2 series/.test(l ?? ''));
    await wb.page.keyboard.press('ArrowRight');
    assert.notEqual((await focused(frame)).data.run, run, 'ArrowRight moved to the other run');
  });

  test('no CSP violations or console errors', async ({ wb }) => {
    await cdp?.detach().catch(() => undefined);
    assert.deepEqual(wb.cspViolations(), []);
    assert.deepEqual(wb.errors(), []);
  });
});
