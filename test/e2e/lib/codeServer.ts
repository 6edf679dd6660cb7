/**
 * Starts a real VS Code server (code-server, installed by test/e2e/setup.sh into test/e2e/.harness)
 * with fresh per-test state and the extension under test loaded from its folder or a .vsix.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Repository root (the extension's development folder). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** Folder the harness npm project is installed into by setup.sh. */
export const HARNESS_DIR = process.env.GAN_E2E_HARNESS_DIR ?? path.join(REPO_ROOT, 'test', 'e2e', '.harness');
/** Root of everything the e2e tests write. */
export const E2E_OUTPUT = path.join(REPO_ROOT, 'test-output', 'e2e');

/** How the extension under test is loaded. */
export type ExtensionSource =
  | { kind: 'folder'; path: string }
  | { kind: 'vsix'; path: string }
  | { kind: 'none' };

export interface CodeServerOptions {
  /** Fresh folder for all server state (wiped first); defaults to test-output/e2e/<name>. */
  workDir: string;
  /** Folder opened as the workspace. */
  workspace: string;
  /** Defaults to the repository's development folder. */
  extension?: ExtensionSource;
  /** Merged over the harness defaults in the user settings.json. */
  settings?: Record<string, unknown>;
  /** Milliseconds to wait for /healthz (default 60 000). */
  startTimeoutMs?: number;
  /**
   * Extensions folder (wiped first); defaults to <workDir>/extensions. A folder outside the repository
   * keeps Node from resolving the repository's node_modules from an installed .vsix (self-containment).
   */
  extensionsDir?: string;
}

export interface CodeServer {
  readonly port: number;
  /** Workbench URL with the workspace folder. */
  readonly url: string;
  readonly workDir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** `<publisher>.<name>` of the loaded extension ('' when none). */
  readonly extensionId: string;
  /** Milliseconds from spawn to a healthy /healthz. */
  readonly startMs: number;
  /** code-server's stdout+stderr so far. */
  output(): string;
  /** Concatenated extension-host logs (activation errors land here). */
  extensionHostLog(): string;
  /**
   * Waits until the extension host log says the extension activated; resolves to the activation
   * event ("onView:…", "onCommand:…"), rejects on an activation failure or after the timeout.
   */
  waitForActivation(timeoutMs?: number): Promise<string>;
  /** Kills the whole process group (server, extension hosts, pty hosts) and waits for exit. */
  stop(): Promise<void>;
}

/** Settings every e2e workbench starts with; callers add their own on top. */
export const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
};

/** Reads `<publisher>.<name>` and the versioned folder name VS Code expects for an extension folder. */
export function extensionIdentity(extensionRoot: string): { id: string; folderName: string } {
  const pkgPath = path.join(extensionRoot, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { publisher?: string; name?: string; version?: string };
  if (!pkg.publisher || !pkg.name || !pkg.version) {
    throw new Error(`${pkgPath} lacks publisher/name/version, so VS Code cannot load it as an extension`);
  }
  const id = `${pkg.publisher}.${pkg.name}`;
  return { id, folderName: `${id}-${pkg.version}` };
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function codeServerBin(): string {
  const bin = path.join(HARNESS_DIR, 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(bin)) throw new Error(`code-server not installed at ${bin}; run: bash test/e2e/setup.sh`);
  return bin;
}

/** Environment that keeps code-server's config, logs and temp files inside workDir, offline. */
function serverEnv(workDir: string): NodeJS.ProcessEnv {
  const xdg = path.join(workDir, 'xdg');
  const tmp = path.join(workDir, 'tmp');
  for (const d of ['config', 'data', 'cache']) fs.mkdirSync(path.join(xdg, d), { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    XDG_CACHE_HOME: path.join(xdg, 'cache'),
    TMPDIR: tmp,
    // An empty gallery URL stops marketplace (open-vsx) queries: the machine has no internet.
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
  };
  // Variables of an enclosing VS Code / test runner would leak into the extension host.
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS' || k.startsWith('NODE_TEST')) delete env[k];
  }
  return env;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Starts code-server; resolves once /healthz answers. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const workDir = path.resolve(opts.workDir);
  fs.rmSync(workDir, { recursive: true, force: true });
  const userDataDir = path.join(workDir, 'user-data');
  // Must be a NEW empty folder: a folder whose extensions.json does not list a linked extension ignores it.
  const extensionsDir = opts.extensionsDir ? path.resolve(opts.extensionsDir) : path.join(workDir, 'extensions');
  if (opts.extensionsDir) fs.rmSync(extensionsDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const env = serverEnv(workDir);
  const bin = codeServerBin();

  const settings = { ...BASE_SETTINGS, ...(opts.settings ?? {}) };
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const source: ExtensionSource = opts.extension ?? { kind: 'folder', path: REPO_ROOT };
  let extensionId = '';
  if (source.kind === 'folder') {
    const ident = extensionIdentity(source.path);
    extensionId = ident.id;
    fs.symlinkSync(path.resolve(source.path), path.join(extensionsDir, ident.folderName), 'dir');
  } else if (source.kind === 'vsix') {
    const r = spawnSync(bin, ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir,
      '--install-extension', path.resolve(source.path)], { env, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) throw new Error(`--install-extension ${source.path} failed (${r.status ?? r.signal}):\n${tail(out)}`);
    // The CLI names the .vsix file, not the extension; the fresh extensions.json lists exactly one.
    const installed = JSON.parse(fs.readFileSync(path.join(extensionsDir, 'extensions.json'), 'utf8')) as { identifier: { id: string } }[];
    if (installed.length !== 1) throw new Error(`expected one installed extension, found ${JSON.stringify(installed.map((e) => e.identifier.id))}`);
    extensionId = installed[0].identifier.id;
  }

  const port = await freePort();
  const logPath = path.join(workDir, 'code-server.log');
  const log = fs.openSync(logPath, 'a');
  const started = Date.now();
  // detached => setsid: the server and every extension host it forks share one process group we can kill.
  const child: ChildProcess = spawn(bin, [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir,
    path.resolve(opts.workspace),
  ], { env, cwd: workDir, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('code-server did not spawn');
  let exited: number | string | null = null;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', (code, sig) => { exited = code ?? sig ?? 'exit'; resolve(); }));
  // Never leave a server behind when the test process dies without calling stop().
  const onExit = () => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ } };
  // It runs in its own session, so a signal to the test's process group (e.g. from `timeout`) misses it.
  const onSignal = (sig: NodeJS.Signals) => { onExit(); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.once('exit', onExit);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  const output = () => { try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; } };
  const stop = async () => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
    const killTimer = setTimeout(() => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exitPromise;
    // Children of the group (extension host) may outlive the leader briefly.
    for (let i = 0; i < 50; i++) {
      try { process.kill(-pgid, 0); } catch { break; }
      if (i === 25) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
      await new Promise((r) => setTimeout(r, 100));
    }
    clearTimeout(killTimer);
  };

  const deadline = started + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) throw new Error(`code-server exited (${exited}) before it was healthy:\n${tail(output())}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server not healthy after ${opts.startTimeoutMs ?? 60_000} ms:\n${tail(output())}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const startMs = Date.now() - started;

  const extensionHostLog = () => {
    const logsDir = path.join(userDataDir, 'logs');
    const parts: string[] = [];
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/exthost/i.test(e.name) && e.name.endsWith('.log')) parts.push(`==> ${path.relative(logsDir, p)}\n${fs.readFileSync(p, 'utf8')}`);
      }
    };
    walk(logsDir);
    return parts.join('\n');
  };

  const waitForActivation = async (timeoutMs = 30_000): Promise<string> => {
    if (!extensionId) throw new Error('no extension under test');
    const id = escapeRegExp(extensionId);
    const ok = new RegExp(`ExtensionService#_doActivateExtension ${id}\\b.*activationEvent: '([^']*)'`);
    const failed = new RegExp(`Activating extension '?${id}'? failed[^\\n]*`, 'i');
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = extensionHostLog();
      const bad = failed.exec(text);
      if (bad) throw new Error(`${bad[0]}\n${tail(text, 30)}`);
      const m = ok.exec(text);
      if (m) return m[1];
      if (Date.now() > until) throw new Error(`${extensionId} not activated after ${timeoutMs} ms:\n${tail(text, 30)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  return {
    port,
    url: `http://127.0.0.1:${port}/?folder=${encodeURI(path.resolve(opts.workspace))}`,
    workDir, userDataDir, extensionsDir, extensionId, startMs,
    output, extensionHostLog, waitForActivation, stop,
  };
}
