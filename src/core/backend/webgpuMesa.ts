/**
 * A private Mesa lavapipe (Vulkan on the CPU) for WebGPU on GPU-less Linux machines, unpacked by
 * scripts/setup-webgpu.sh into .webgpu-mesa/ (docs/webgpu.md): finding it, the env a child process
 * needs for it (webgpuEnv), loading it into a running process, and probing for other Vulkan drivers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { errorMessage, firstLine } from './attempt';

/** Env var naming a private lavapipe folder made by scripts/setup-webgpu.sh (default: .webgpu-mesa/ at the package root). */
export const WEBGPU_MESA_ENV = 'GAN_INSPECTOR_WEBGPU_MESA';

/** A Mesa lavapipe tree unpacked by scripts/setup-webgpu.sh. */
export interface WebgpuMesa {
  dir: string;       // the folder (.webgpu-mesa)
  icd: string;       // its Vulkan ICD manifest, lvp_icd.json
  libDir: string;    // folder of libvulkan_lvp.so, libvulkan.so.1 and the newer libdrm it needs
  packages: string[]; // Debian package=version lines it was made from
}

/**
 * The private lavapipe folder: $GAN_INSPECTOR_WEBGPU_MESA if set, else `.webgpu-mesa/` in the nearest
 * folder above this module that holds a package.json (the repository / installed tool). undefined when
 * there is none (Linux only). Throws UserError when the env var names an unusable folder.
 */
export function findWebgpuMesa(): WebgpuMesa | undefined {
  const r = locateWebgpuMesa();
  if (r.problem) throw new UserError(r.problem, WEBGPU_MESA_HINT);
  return r.mesa;
}

/** The hint of every problem with the private lavapipe folder. */
export const WEBGPU_MESA_HINT = `Point ${WEBGPU_MESA_ENV} at the .webgpu-mesa folder made by \`bash scripts/setup-webgpu.sh\`, or unset it.`;

export function locateWebgpuMesa(): { mesa?: WebgpuMesa; problem?: string } {
  if (process.platform !== 'linux') return {};
  const explicit = process.env[WEBGPU_MESA_ENV];
  if (explicit) {
    const r = readWebgpuMesa(path.resolve(explicit));
    return typeof r === 'string' ? { problem: `${WEBGPU_MESA_ENV}=${explicit} is not usable: ${r}` } : { mesa: r };
  }
  for (let d = __dirname, i = 0; i < 6; i++, d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) {
      const r = readWebgpuMesa(path.join(d, '.webgpu-mesa'));
      return typeof r === 'string' ? {} : { mesa: r };
    }
    if (path.dirname(d) === d) break;
  }
  return {};
}

/** Reads a lavapipe folder; a string says what is wrong with it. */
function readWebgpuMesa(dir: string): WebgpuMesa | string {
  const ready = path.join(dir, 'ready'), icd = path.join(dir, 'lvp_icd.json');
  if (!fs.existsSync(ready)) return `${ready} is missing (setup did not finish)`;
  let lib: string;
  try {
    lib = (JSON.parse(fs.readFileSync(icd, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '';
  } catch (e) {
    return `${icd} is unreadable (${firstLine(errorMessage(e))})`;
  }
  const lvp = path.resolve(dir, lib); // the Vulkan loader resolves a relative library_path against the manifest's folder
  if (!lib || !fs.existsSync(lvp)) return `the driver ${lvp} named by ${icd} is missing`;
  const libDir = path.dirname(lvp);
  if (!fs.existsSync(path.join(libDir, 'libvulkan.so.1'))) return `the Vulkan loader ${path.join(libDir, 'libvulkan.so.1')} is missing`;
  return { dir, icd, libDir, packages: fs.readFileSync(ready, 'utf8').split('\n').filter(Boolean) };
}

/** `list` (a ':'-separated path list) with `item` in front, unless it is already in it. */
function prependPathList(item: string, list: string | undefined): string {
  const parts = (list ?? '').split(':').filter(Boolean);
  return parts.includes(item) ? parts.join(':') : [item, ...parts].join(':');
}

/**
 * Environment variables a child process needs so that Dawn finds the private lavapipe: merge them into
 * the env of any Node process that may start the webgpu backend (backend 'webgpu' or 'auto'), e.g.
 * `fork(worker, { env: { ...process.env, ...webgpuEnv() } })`. LD_LIBRARY_PATH must be there when the
 * process starts (the dynamic loader reads it once); initBackend can also activate the folder from
 * inside a process started without it (see activateWebgpuMesa), so this is the cleaner, not the only way.
 * {} when there is no private folder (then the system's Vulkan drivers are used as they are).
 */
export function webgpuEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const mesa = findWebgpuMesa();
  if (!mesa) return {};
  return {
    [WEBGPU_MESA_ENV]: mesa.dir,
    LD_LIBRARY_PATH: prependPathList(mesa.libDir, base.LD_LIBRARY_PATH),
    // ADD, not VK_DRIVER_FILES: a machine that also has a real GPU keeps its drivers (Dawn prefers them).
    VK_ADD_DRIVER_FILES: prependPathList(mesa.icd, base.VK_ADD_DRIVER_FILES),
  };
}

/** glibc's RTLD_NODELETE (missing from os.constants.dlopen): dlclose leaves the library loaded. */
const RTLD_NODELETE = 0x1000;
/** LD_LIBRARY_PATH as the process started with it (what the dynamic loader uses), before any code changes process.env. */
const STARTUP_LD_LIBRARY_PATH = process.env.LD_LIBRARY_PATH ?? '';
let activatedMesa: string | undefined;

/**
 * Makes the private lavapipe visible to Dawn inside this already running process: adds its ICD to
 * VK_ADD_DRIVER_FILES (the Vulkan loader reads it when Dawn creates its instance) and, unless the process
 * was started with webgpuEnv()'s LD_LIBRARY_PATH, preloads the private libvulkan.so.1 and libdrm*.so.N.
 * Preloading uses process.dlopen with RTLD_NODELETE: Node rejects them as addons ("did not
 * self-register") and dlcloses them, but they stay loaded, so Dawn's dlopen("libvulkan.so.1") and
 * lavapipe's need for the newer libdrm.so.2 resolve to them by soname. Returns a problem or undefined.
 */
export function activateWebgpuMesa(mesa: WebgpuMesa): string | undefined {
  // Every time: the env may have been changed since, and each new Dawn instance reads it afresh.
  process.env.VK_ADD_DRIVER_FILES = prependPathList(mesa.icd, process.env.VK_ADD_DRIVER_FILES);
  if (activatedMesa === mesa.dir) return undefined;
  if (!STARTUP_LD_LIBRARY_PATH.split(':').includes(mesa.libDir)) {
    // Sorted: libdrm.so.2 comes before libdrm_amdgpu.so.1, which needs it. Vulkan layers are not needed.
    let pending = fs.readdirSync(mesa.libDir).filter((f) => /^lib.+\.so\.\d+$/.test(f) && !f.startsWith('libVkLayer')).sort();
    const errors = new Map<string, string>();
    // Retry until no progress, in case a library needs another one later in the list.
    for (let progress = true; pending.length && progress;) {
      progress = false;
      for (const f of [...pending]) {
        try {
          process.dlopen({ exports: {} }, path.join(mesa.libDir, f), os.constants.dlopen.RTLD_NOW! | RTLD_NODELETE);
        } catch (e) {
          const msg = errorMessage(e);
          if (!msg.includes('did not self-register')) { errors.set(f, firstLine(msg)); continue; }
        }
        pending = pending.filter((p) => p !== f);
        progress = true;
      }
    }
    if (pending.length) return `could not load ${pending.map((f) => `${f} (${errors.get(f)})`).join(', ')} from ${mesa.libDir}`;
  }
  activatedMesa = mesa.dir;
  return undefined;
}

/**
 * Whether Vulkan drivers other than the private lavapipe may exist: ICD manifests in the loader's
 * standard folders or named by the user's VK_* variables. Without them Dawn could only find lavapipe.
 */
export function otherVulkanDriversPresent(mesa: WebgpuMesa): boolean {
  const env = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'].flatMap((v) => (process.env[v] ?? '').split(':'));
  if (env.some((f) => f && path.resolve(f) !== mesa.icd)) return true;
  const dataDirs = (process.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  const configDirs = (process.env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dirs = [...configDirs, '/etc', ...dataDirs, process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local/share')]
    .filter(Boolean).map((d) => path.join(d, 'vulkan', 'icd.d'));
  return dirs.some((d) => {
    try { return fs.readdirSync(d).some((f) => f.endsWith('.json')); } catch { return false; }
  });
}

/** Whether the dynamic loader can find libvulkan.so.1 (Dawn's only way to a GPU on Linux). */
export function vulkanLoaderPresent(): boolean {
  const dirs = new Set<string>((process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean));
  for (const d of ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, `/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`]) dirs.add(d);
  try {
    for (const f of fs.readdirSync('/etc/ld.so.conf.d')) {
      for (const line of fs.readFileSync(path.join('/etc/ld.so.conf.d', f), 'utf8').split('\n')) {
        if (line.startsWith('/')) dirs.add(line.trim());
      }
    }
  } catch { /* no ld.so.conf.d: the default dirs above remain */ }
  return [...dirs].some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}
