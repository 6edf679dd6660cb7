/**
 * node:test glue: one code-server + one browser per spec file, shared by its tests (which run in
 * order), generous timeouts, a `<suite>-<test>.fail.png` screenshot and diagnostics on failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { E2E_OUTPUT, startCodeServer, type CodeServer, type ExtensionSource } from './codeServer';
import { SCREENSHOT_DIR, Workbench } from './workbench';

export interface E2EContext {
  cs: CodeServer;
  wb: Workbench;
  /** test-output/e2e/<suite>/ */
  workDir: string;
  /** The folder opened as the workspace. */
  workspace: string;
  /** Named durations in ms, written to <workDir>/timings.json after the suite. */
  timings: Record<string, number>;
}

export interface SuiteOptions {
  /** Fills the (empty) workspace folder before the server starts. */
  workspace?: (dir: string) => void | Promise<void>;
  /** User settings on top of the harness defaults. */
  settings?: Record<string, unknown>;
  /** Defaults to $GAN_E2E_EXTENSION (a .vsix or an extension folder), else the repository folder. */
  extension?: ExtensionSource | ((workDir: string) => ExtensionSource);
  /** Per-test timeout (default 120 s). */
  testTimeoutMs?: number;
  /** Extensions folder of the server (see CodeServerOptions.extensionsDir). */
  extensionsDir?: string;
}

export type E2ETestFn = (ctx: E2EContext, t: TestContext) => Promise<void>;
export type E2ETest = (name: string, fn: E2ETestFn, opts?: { timeoutMs?: number }) => void;

/** GAN_E2E_EXTENSION=path/to/x.vsix (or a folder) tests that build instead of the development folder. */
function extensionFromEnv(): ExtensionSource | undefined {
  const p = process.env.GAN_E2E_EXTENSION;
  if (!p) return undefined;
  return p.endsWith('.vsix') ? { kind: 'vsix', path: path.resolve(p) } : { kind: 'folder', path: path.resolve(p) };
}

function slug(s: string): string {
  return s.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80);
}

/** Short failure diagnostics: what the browser and the extension host logged. */
function diagnostics(ctx: Partial<E2EContext>): string {
  const parts: string[] = [];
  const errs = ctx.wb?.errors() ?? [];
  if (errs.length) parts.push(`console errors (last 8):\n  ${errs.slice(-8).join('\n  ')}`);
  const csp = ctx.wb?.cspViolations() ?? [];
  if (csp.length) parts.push(`CSP violations:\n  ${csp.slice(-8).map((v) => `${v.frame}: ${v.text}`).join('\n  ')}`);
  const ext = (ctx.cs?.extensionHostLog() ?? '').split('\n').filter((l) => /\[error\]|Activating extension .* failed|Error:/i.test(l));
  if (ext.length) parts.push(`extension host errors (last 8):\n  ${ext.slice(-8).join('\n  ')}`);
  return parts.join('\n');
}

/** Declares a spec file's suite: `body` registers tests with the given `test` function. */
export function e2eSuite(name: string, opts: SuiteOptions, body: (test: E2ETest) => void): void {
  const workDir = path.join(E2E_OUTPUT, slug(name));
  const ctx: Partial<E2EContext> = { workDir, workspace: path.join(workDir, 'workspace'), timings: {} };

  describe(name, () => {
    before(async () => {
      const t0 = Date.now();
      fs.rmSync(workDir, { recursive: true, force: true });
      fs.mkdirSync(ctx.workspace!, { recursive: true });
      await opts.workspace?.(ctx.workspace!);
      const extension = typeof opts.extension === 'function' ? opts.extension(workDir) : opts.extension ?? extensionFromEnv();
      ctx.cs = await startCodeServer({ workDir: path.join(workDir, 'server'), workspace: ctx.workspace!, settings: opts.settings, extension, extensionsDir: opts.extensionsDir });
      ctx.timings!.codeServerStartMs = ctx.cs.startMs;
      const tb = Date.now();
      try {
        ctx.wb = await Workbench.open(ctx.cs.url, { workDir: path.join(workDir, 'browser'), extensionId: ctx.cs.extensionId || undefined });
      } catch (e) {
        throw new Error(`workbench did not open: ${(e as Error).message}\n${diagnostics(ctx)}`);
      }
      ctx.timings!.browserLaunchMs = Date.now() - tb - ctx.wb.readyMs;
      ctx.timings!.workbenchReadyMs = ctx.wb.readyMs;
      ctx.timings!.setupTotalMs = Date.now() - t0;
    }, { timeout: 240_000 });

    after(async () => {
      await ctx.wb?.close();
      await ctx.cs?.stop();
      fs.mkdirSync(workDir, { recursive: true });
      fs.writeFileSync(path.join(workDir, 'timings.json'), JSON.stringify(ctx.timings, null, 2));
      const line = Object.entries(ctx.timings ?? {}).map(([k, v]) => `${k}=${(v / 1000).toFixed(1)}s`).join(' ');
      console.log(`[e2e] ${name}: ${line}`);
    }, { timeout: 60_000 });

    body((testName, fn, testOpts) => {
      it(testName, { timeout: testOpts?.timeoutMs ?? opts.testTimeoutMs ?? 120_000 }, async (t) => {
        if (!ctx.cs || !ctx.wb) throw new Error('suite setup failed (see the before hook)');
        const full = ctx as E2EContext;
        const t0 = Date.now();
        try {
          await fn(full, t);
        } catch (e) {
          const shot = path.join(SCREENSHOT_DIR, `${slug(name)}-${slug(testName)}.fail.png`);
          fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
          await full.wb.page.screenshot({ path: shot }).catch(() => undefined);
          const err = e instanceof Error ? e : new Error(String(e));
          err.message += `\n[e2e] screenshot: ${path.relative(process.cwd(), shot)}\n${diagnostics(full)}`;
          throw err;
        } finally {
          full.timings[`test:${testName}`] = Date.now() - t0;
        }
      });
    });
  });
}
