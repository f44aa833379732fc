/**
 * "Profile Go process": pick a running Go process (or launch a binary, or go to a remote
 * host), pick what to record — CPU sampling first and preselected, named for the event that
 * will be used, for goPerfLens.duration seconds, another length, or until I stop it — and Enter
 * records under a progress notification whose Cancel stops early and keeps what was recorded
 * (as the status bar's Stop does; "Discard recording" drops it). While it records (perf or the eBPF sampler), the profile
 * so far is drawn about once a second (live heat); the whole one then goes into the
 * ProfileSession, so heat stays in every open editor; a shorter one (stopped, or the process
 * exited) says how much it covers.
 */
import * as vscode from 'vscode';
import {
  describeTarget,
  listGoProcesses,
  probeTarget,
  recordedAsText,
  rememberPassword,
  type GoProcess,
  type PasswordPrompt,
  type ProbeResult,
  type Target,
} from '../capture';
import type { Profile } from '../model/profile';
import type { UiConfig } from '../ui/config';
import { formatDuration } from '../ui/format';
import type { ProfileHistoryWatcher } from '../ui/profileHistoryPicker';
import type { LoadedProfile, ProfileSession } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { findModules } from '../ui/profileSession';
import { CPU_SAMPLE_MS, isOwnBuild, measureCpu, orderProcesses, typedPid, type ListedProcess } from './processList';
import { lowRateReason, recordCpuProfile } from './recordCpuProfile';
import type { RecordingControl, RecordingHandle } from './recordingControl';
import { recordHeat } from './recordHeat';
import { type LaunchedProgram, launchProgram } from './launchProgram';
import { metricsOf, shownMetric } from '../model/metrics';

export interface ProfileDeps {
  session: ProfileSession;
  config: () => UiConfig;
  /** Where fetched binaries are cached. */
  cacheDir: string;
  askPassword: PasswordPrompt;
  /** Processes we launched, killed when the extension deactivates. */
  launched: Set<LaunchedProgram>;
  /** The recording under way (Stop keeps it, Discard drops it). */
  recording: RecordingControl;
  /** This window's earlier profiles. */
  history: ProfileHistoryWatcher;
  /** Runs the eBPF flows (latency, sched, syscalls) once a process and a mode are chosen. */
  runTrace: (target: Target, pid: number, mode: 'latency' | 'sched' | 'syscalls') => Promise<void>;
}

/** What choosing a process needs (the trace commands choose one too). */
export type ProcessPickDeps = Pick<ProfileDeps, 'config' | 'askPassword' | 'launched'>;

type ProcessItem = vscode.QuickPickItem & {
  pid?: number;
  action?: 'launch' | 'remote';
  /** A PID typed by the user, not from the list. */ typed?: boolean;
};
type ModeItem = vscode.QuickPickItem & {
  mode: 'cpu' | 'latency' | 'sched' | 'syscalls' | 'heat';
  durationSec?: number;
  /** For 'heat': what is recorded together in one window. */
  heat?: { allocs: boolean; blocking: boolean; cpu: boolean };
};

/** Asks for the sudo password of one user@host (named in the prompt), kept in memory for a few minutes. */
export function passwordPrompt(): PasswordPrompt {
  return rememberPassword(async (where) =>
    vscode.window.showInputBox({
      password: true,
      ignoreFocusOut: true,
      title: `Go Perf Lens — sudo on ${where}`,
      prompt: `sudo password for ${where}, to start the go-perf-lens helper there as root (kept in memory for 5 minutes, sent only to that host's sudo)`,
    }),
  );
}

function uptime(sec: number | undefined): string {
  if (sec === undefined) return '';
  if (sec < 60) return `up ${Math.round(sec)}s`;
  if (sec < 3600) return `up ${Math.round(sec / 60)}m`;
  if (sec < 86400) return `up ${(sec / 3600).toFixed(1).replace(/\.0$/, '')}h`;
  return `up ${Math.round(sec / 86400)}d`;
}

function processName(p: GoProcess): string {
  return p.exe
    ? p.exe
        .replace(/ \(deleted\)$/, '')
        .split('/')
        .pop()!
    : p.comm;
}

/**
 * A process row. The label holds the name and the PID, which are what the filter matches (the
 * description's Go version and user do not: typing "1" must not pick "go1.22").
 */
function processItem(l: ListedProcess): ProcessItem {
  const p = l.process;
  const cpu = l.cpuPercent !== undefined ? `${l.cpuPercent < 9.95 ? l.cpuPercent.toFixed(1) : Math.round(l.cpuPercent)}% CPU` : '';
  const desc = [
    cpu,
    l.ownBuild ? 'built from this workspace' : '',
    p.goVersion ?? '',
    p.user ?? (p.uid !== null ? `uid ${p.uid}` : ''),
    uptime(p.uptimeSec),
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    label: `${l.ownBuild ? '$(star-full)' : '$(symbol-event)'} ${processName(p)} · PID ${p.pid}`,
    description: desc,
    detail: p.cmdline.join(' '),
    pid: p.pid,
  };
}

/** The row offered for a typed PID the list does not show (another user's, a non-Go one: checked when picked). */
function typedPidItem(pid: number): ProcessItem {
  return {
    label: `$(debug-start) PID ${pid}`,
    description: 'not in the list: profile it anyway (checked to be a Go program first)',
    pid,
    alwaysShow: true,
    typed: true,
  };
}

/** What a process picker is for: its title, and a placeholder saying why it asks. */
export interface PickPurpose {
  title: string;
  placeholder?: string;
}

/** The quick pick of Go processes on `target`; resolves to a pid, an action, or undefined (dismissed). */
async function pickProcess(
  target: Target,
  deps: ProcessPickDeps,
  hostLabel: string,
  purpose: PickPurpose,
): Promise<ProcessItem | undefined> {
  const qp = vscode.window.createQuickPick<ProcessItem>();
  qp.title = `${purpose.title} — ${hostLabel}`;
  qp.placeholder = purpose.placeholder ?? 'Filter by name or PID (any PID can be typed)';
  // Labels only: the name and the PID.
  qp.matchOnDescription = false;
  qp.matchOnDetail = false;
  qp.busy = true;
  const extras: ProcessItem[] = [
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(run) Launch a binary…', action: 'launch', alwaysShow: true },
    { label: '$(remote) Remote host…', action: 'remote', alwaysShow: true },
  ];
  let listed: ListedProcess[] = [];
  let rows: ProcessItem[] = [];
  // A typed PID is always offered, and is the active row unless a listed process has exactly that PID.
  const redraw = (): void => {
    const pid = typedPid(qp.value);
    const exact = pid !== undefined ? rows.find((r) => r.pid === pid) : undefined;
    const typed = pid !== undefined && !exact ? [typedPidItem(pid)] : [];
    qp.items = [...typed, ...rows, ...extras];
    if (typed.length) qp.activeItems = typed;
    else if (exact) qp.activeItems = [exact];
  };
  const setListed = (list: ListedProcess[]): void => {
    listed = orderProcesses(list);
    rows = listed.map(processItem);
    redraw();
  };
  qp.onDidChangeValue(redraw);
  redraw();
  const chosen = new Promise<ProcessItem | undefined>((resolve) => {
    qp.onDidAccept(() => {
      // A filter of digits is a PID: Enter takes that process (listed or not), whatever row was
      // active a keystroke ago (the list redraws after each character; Enter may come first).
      const pid = typedPid(qp.value);
      const sel = qp.selectedItems[0] ?? qp.activeItems[0];
      resolve(pid !== undefined && sel?.action === undefined ? (rows.find((r) => r.pid === pid) ?? typedPidItem(pid)) : sel);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  // The workspace's modules are found while the processes are listed (both asynchronously).
  const modules = findModules(folders).catch(() => []);
  // A remote host's processes come with their CPU use, measured there by the helper.
  const remoteCpu = target.kind === 'ssh' ? { cpuSampleMs: CPU_SAMPLE_MS } : {};
  Promise.all([listGoProcesses(target, { askPassword: deps.askPassword, ...remoteCpu }), modules]).then(
    ([procs, found]) => {
      const modulePaths = found.map((m) => m.modulePath);
      setListed(
        procs.map((process) => ({
          process,
          ownBuild: target.kind === 'local' && isOwnBuild(process, modulePaths, folders),
          ...(process.cpuPercent !== undefined ? { cpuPercent: process.cpuPercent } : {}),
        })),
      );
      // The caller's reason for asking (a loaded profile's process has exited, say) stays in front.
      const next = 'type a PID, launch a binary, or try a remote host';
      if (!procs.length)
        qp.placeholder = purpose.placeholder
          ? `${purpose.placeholder} (no Go processes found: ${next})`
          : `No Go processes found — ${next}`;
      qp.busy = false;
      // CPU use, measured on this machine (the list stays usable meanwhile).
      if (target.kind === 'local' && procs.length) {
        void measureCpu(procs.map((p) => p.pid)).then((cpu) =>
          setListed(listed.map((l) => ({ ...l, ...(cpu.has(l.process.pid) ? { cpuPercent: cpu.get(l.process.pid)! } : {}) }))),
        );
      }
    },
    (err: unknown) => {
      qp.busy = false;
      qp.placeholder =
        err instanceof UserError
          ? `${err.message}${err.hint ? ` — ${err.hint}` : ''}`
          : `Could not list processes: ${(err as Error).message}`;
    },
  );
  try {
    return await chosen;
  } finally {
    qp.dispose();
  }
}

/** What to record, and for CPU sampling (alone or with allocations or blocking) for how long. */
interface ModeChoice {
  mode: ModeItem['mode'];
  durationSec?: number;
  heat?: ModeItem['heat'];
}

/** Allocations and blocking, alone or with CPU sampling in the same window. */
function heatItems(sec: number): ModeItem[] {
  const item = (label: string, description: string, heat: NonNullable<ModeItem['heat']>): ModeItem => ({
    label: `${label} · ${sec} s`,
    description,
    mode: 'heat',
    durationSec: sec,
    heat,
  });
  return [
    { label: '', kind: vscode.QuickPickItemKind.Separator, mode: 'cpu' },
    item('$(symbol-array) Allocations', 'eBPF · the allocations the Go runtime samples (bytes, objects)', {
      allocs: true,
      blocking: false,
      cpu: false,
    }),
    item('$(clock) Blocking', 'eBPF · where goroutines wait, how long, why', { allocs: false, blocking: true, cpu: false }),
    item('$(pulse) CPU sampling + allocations', 'in the same window', { allocs: true, blocking: false, cpu: true }),
    item('$(pulse) CPU sampling + blocking', 'in the same window', { allocs: false, blocking: true, cpu: true }),
  ];
}

/** The CPU row's description for the eBPF samplers (goPerfLens.sampler auto or bpf). */
function samplerText(sampler: 'auto' | 'bpf'): string {
  return sampler === 'bpf' ? 'eBPF sampler' : 'eBPF sampler (perf where BCC cannot run)';
}

/** Durations offered beside the setting's (seconds). */
const DURATIONS_SEC = [5, 10, 30];
/** "Until I stop it": the longest recording the helper takes (an hour); Stop (or Cancel) ends it and keeps it. */
const UNTIL_STOPPED_SEC = 3600;

async function pickMode(
  probe: Promise<ProbeResult | undefined>,
  processLabel: string,
  defaultSec: number,
  sampler: UiConfig['sampler'],
): Promise<ModeChoice | undefined> {
  const qp = vscode.window.createQuickPick<ModeItem>();
  qp.title = `What to record — ${processLabel}`;
  qp.placeholder = `CPU sampling for ${defaultSec} s is preselected (goPerfLens.duration); or pick another duration or kind`;
  const eventName = (p: ProbeResult | undefined): string =>
    p === undefined ? 'cycles, or CPU time where there is no PMU' : p.recommendedEvent === 'cycles:u' ? 'cycles' : 'CPU time';
  const cpuItem = (p: ProbeResult | undefined, sec: number): ModeItem => {
    const cycles = p?.recommendedEvent === 'cycles:u';
    const known = p !== undefined;
    return {
      label: `$(pulse) CPU sampling (${eventName(p)}) · ${sec} s`,
      description: sampler === 'perf' ? (known ? (cycles ? 'perf · cycles:u' : 'perf · cpu-clock') : 'perf') : samplerText(sampler),
      detail: !known
        ? undefined
        : cycles
          ? 'Hardware cycle counter sampling'
          : (p.fallbackReason ?? 'This machine has no hardware cycle counter: sampling CPU time (cpu-clock) instead'),
      mode: 'cpu',
      durationSec: sec,
    };
  };
  const others = (p: ProbeResult | undefined): ModeItem[] => [
    ...DURATIONS_SEC.filter((sec) => sec !== defaultSec).map((sec) => ({
      label: `$(pulse) CPU sampling (${eventName(p)}) · ${sec} s`,
      mode: 'cpu' as const,
      durationSec: sec,
    })),
    {
      label: `$(pulse) CPU sampling (${eventName(p)}) · until I stop it`,
      description: 'heat refreshes every second; Stop in the status bar (or Cancel) keeps it · at most an hour',
      mode: 'cpu' as const,
      durationSec: UNTIL_STOPPED_SEC,
    },
  ];
  const rest: ModeItem[] = [
    { label: '', kind: vscode.QuickPickItemKind.Separator, mode: 'cpu' },
    { label: '$(watch) Latency of chosen functions', description: 'eBPF uprobes', mode: 'latency' },
    { label: '$(debug-pause) Goroutine scheduling latency', description: 'eBPF', mode: 'sched' },
    { label: '$(terminal) Syscalls', description: 'eBPF', mode: 'syscalls' },
  ];
  const first = cpuItem(undefined, defaultSec);
  const heat = heatItems(defaultSec);
  qp.items = [first, ...others(undefined), ...heat, ...rest];
  qp.activeItems = [first];
  // Rename the CPU items when the probe answers, keeping the active one so Enter still takes it.
  void probe.then((p) => {
    if (!p) return;
    const activeIndex = qp.items.indexOf(qp.activeItems[0]!);
    qp.items = [cpuItem(p, defaultSec), ...others(p), ...heat, ...rest];
    qp.activeItems = [qp.items[Math.max(0, activeIndex)]!];
  });
  const result = new Promise<ModeChoice | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const it = qp.selectedItems[0] ?? qp.activeItems[0];
      resolve(
        it && {
          mode: it.mode,
          ...(it.durationSec !== undefined ? { durationSec: it.durationSec } : {}),
          ...(it.heat ? { heat: it.heat } : {}),
        },
      );
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  try {
    return await result;
  } finally {
    qp.dispose();
  }
}

async function launchBinary(deps: ProcessPickDeps): Promise<number | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: 'Launch a Go binary to profile', openLabel: 'Launch' });
  const bin = picked?.[0]?.fsPath;
  if (!bin) return undefined;
  const argsText = await vscode.window.showInputBox({
    title: `Arguments for ${bin}`,
    prompt: 'Space-separated arguments (none is fine)',
    value: '',
  });
  if (argsText === undefined) return undefined;
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const program = await launchProgram(bin, argsText.split(/\s+/).filter(Boolean), cwd);
  deps.launched.add(program);
  void program.exited.then(() => deps.launched.delete(program));
  return program.pid;
}

async function askRemote(deps: ProcessPickDeps): Promise<Target | undefined> {
  const host = await vscode.window.showInputBox({
    title: 'Remote host',
    prompt: 'An ssh destination: a Host from ~/.ssh/config, host, or user@host (the ssh agent and config apply)',
    value: deps.config().remoteHost,
    validateInput: (v) =>
      /^([A-Za-z0-9._-]+@)?[A-Za-z0-9._:%[\]-]+$/.test(v.trim()) && !v.trim().startsWith('-') ? undefined : 'Not a valid ssh destination',
  });
  if (!host) return undefined;
  const at = host.trim().lastIndexOf('@');
  const python = deps.config().pythonPath || undefined;
  return at > 0
    ? { kind: 'ssh', user: host.trim().slice(0, at), host: host.trim().slice(at + 1), python }
    : { kind: 'ssh', host: host.trim(), python };
}

/** The process part of the flow: a pid on a target, or undefined when the user backed out. */
export async function chooseProcess(
  deps: ProcessPickDeps,
  purpose: PickPurpose = { title: 'Profile Go process' },
): Promise<{ target: Target; pid: number; probe: Promise<ProbeResult | undefined>; label: string } | undefined> {
  let target: Target = { kind: 'local', python: deps.config().pythonPath || undefined };
  let hostLabel = 'this machine';
  // Ask the machine what it can record while the user picks a process.
  let probe = probeTarget(target, { askPassword: deps.askPassword }).catch(() => undefined);
  for (;;) {
    const item = await pickProcess(target, deps, hostLabel, purpose);
    if (!item) return undefined;
    if (item.action === 'launch') {
      if (target.kind !== 'local')
        throw new UserError(
          'launching a binary works on this machine only',
          'start the program on the remote host, then pick it from the list',
          'bad-target',
        );
      const pid = await launchBinary(deps);
      return pid === undefined ? undefined : { target, pid, probe, label: `PID ${pid}` };
    }
    if (item.action === 'remote') {
      const remote = await askRemote(deps);
      if (!remote) return undefined;
      target = remote;
      hostLabel = remote.kind === 'ssh' ? remote.host : hostLabel;
      probe = probeTarget(target, { askPassword: deps.askPassword }).catch(() => undefined);
      continue;
    }
    if (item.pid !== undefined) {
      const label = item.typed
        ? await checkTypedPid(target, item.pid, deps)
        : `${item.label.replace(/^\$\([\w-]+\) /, '').replace(/ · PID \d+$/, '')} (PID ${item.pid})`;
      return { target, pid: item.pid, probe, label };
    }
  }
}

/** A typed PID must be a running Go program before we ask what to record; returns its name for the next step. */
async function checkTypedPid(target: Target, pid: number, deps: ProcessPickDeps): Promise<string> {
  const res = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking PID ${pid}…` }, () =>
    probeTarget(target, { pid, askPassword: deps.askPassword }),
  );
  const proc = res.process;
  if (!proc)
    throw new UserError(
      `no process with PID ${pid} is running on ${describeTarget(target)}`,
      'check the PID (ps -e), then profile again',
      'pid-gone',
    );
  const name =
    proc.exe
      .replace(/ \(deleted\)$/, '')
      .split('/')
      .pop() ?? `PID ${pid}`;
  if (!proc.goVersion)
    throw new UserError(
      `PID ${pid} (${name}) is not a Go program: it has no Go build information`,
      'pick a Go process from the list, or build the program with the Go toolchain',
      'not-go',
    );
  return `${name} (PID ${pid})`;
}

export async function profileProcessCommand(deps: ProfileDeps): Promise<void> {
  const chosen = await chooseProcess(deps);
  if (!chosen) return;
  const choice = await pickMode(chosen.probe, chosen.label, deps.config().durationSec, deps.config().sampler);
  if (!choice) return;
  const durationSec = choice.durationSec ?? deps.config().durationSec;
  if (choice.mode === 'cpu') await recordCpu(deps, chosen.target, chosen.pid, durationSec);
  else if (choice.mode === 'heat' && choice.heat) await recordModes(deps, chosen.target, chosen.pid, durationSec, choice.heat);
  else if (choice.mode !== 'heat') await deps.runTrace(chosen.target, chosen.pid, choice.mode);
}

/** How a recording is run under the progress notification: started() when it really records. */
type Recorder = (handle: RecordingHandle, started: () => void, onPartial: (profile: Profile) => void) => Promise<Profile>;

async function recordCpu(deps: ProfileDeps, target: Target, pid: number, durationSec: number): Promise<void> {
  const cfg = deps.config();
  const loaded = await underProgress(
    deps,
    target,
    pid,
    durationSec,
    cfg.sampler === 'perf' ? 'starting perf…' : 'starting the sampler…',
    (handle, started, onPartial) => {
      // The clock starts when perf records or the eBPF sampler has attached; the profile so far is drawn live.
      return recordCpuProfile(
        target,
        { pid, durationSec, freqHz: cfg.frequencyHz, event: 'auto', sampler: cfg.sampler },
        {
          signal: handle.signal,
          onStart: handle.onStart,
          onRecording: started,
          onPartial,
          askPassword: deps.askPassword,
          binaryCacheDir: deps.cacheDir,
        },
      );
    },
  );
  if (!loaded) return;
  deps.session.set(loaded);
  announce(deps, loaded, pid);
}

/** Allocations and/or blocking (with CPU sampling when asked), in one window, as one profile with a metric each. */
async function recordModes(
  deps: ProfileDeps,
  target: Target,
  pid: number,
  durationSec: number,
  modes: NonNullable<ModeItem['heat']>,
): Promise<void> {
  const cfg = deps.config();
  const loaded = await underProgress(deps, target, pid, durationSec, 'attaching the probes…', (handle, started) =>
    recordHeat(
      target,
      pid,
      durationSec,
      { allocs: modes.allocs, blocking: modes.blocking, ...(modes.cpu ? { cpu: { freqHz: cfg.frequencyHz, sampler: cfg.sampler } } : {}) },
      { signal: handle.signal, onStart: handle.onStart, onAttached: started, askPassword: deps.askPassword, binaryCacheDir: deps.cacheDir },
    ),
  );
  if (!loaded) return;
  deps.session.set(loaded);
  const p = loaded.profile;
  const what = metricsOf(p)
    .map((m) => m.label)
    .join(', ');
  void vscode.window.setStatusBarMessage(`Go Perf Lens: ${what} of PID ${pid} over ${formatDuration(p.durationNanos)}`, 8000);
  const notes = (p.warnings ?? []).filter((w) => /stopped after|exited after|dropped|turned its memory profiling off/.test(w));
  if (notes.length) void vscode.window.showWarningMessage(`Go Perf Lens: ${notes.join(' — ')}`);
  if (p.totalSamples === 0)
    void vscode.window.showWarningMessage(
      `Go Perf Lens: nothing of ${shownMetric(p).label} was recorded in PID ${pid} while it ran: put load on it and record again.`,
    );
}

/**
 * Runs a recording under a progress notification whose Cancel stops and keeps it; undefined when
 * discarded. The label names the process (and the host).
 */
async function underProgress(
  deps: ProfileDeps,
  target: Target,
  pid: number,
  durationSec: number,
  startingText: string,
  record: Recorder,
): Promise<LoadedProfile | undefined> {
  const busy = deps.recording.current;
  if (busy)
    throw new UserError(
      `a recording of PID ${busy.pid} is under way`,
      'stop it (keeps it) or discard it first: "Go Perf Lens: Stop recording" / "Discard recording"',
      'busy',
    );
  const { handle, done } = deps.recording.begin(pid);
  let loaded: LoadedProfile;
  try {
    loaded = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Profiling PID ${pid} — Cancel stops and keeps the recording`,
        cancellable: true,
      },
      async (progress, token) => {
        token.onCancellationRequested(() => handle.stop());
        // The clock starts when the recording really records (started()): attaching takes seconds on a busy machine.
        let recordingSince: number | undefined;
        let lastPct = 0;
        const tick = (): void => {
          let message: string;
          let pct = lastPct;
          if (handle.endedBy === 'stop') message = 'stopping, keeping what was recorded…';
          else if (recordingSince === undefined) message = startingText;
          else {
            const left = Math.max(0, durationSec - (Date.now() - recordingSince) / 1000);
            pct = Math.min(100, (100 * (durationSec - left)) / durationSec);
            message =
              durationSec >= UNTIL_STOPPED_SEC && left > 0
                ? `${Math.floor(durationSec - left)} s recorded, heat refreshed every second — Cancel stops and keeps it`
                : left > 0
                  ? `${Math.ceil(left)} s left`
                  : 'reading the recording…';
          }
          progress.report({ message, increment: pct - lastPct });
          lastPct = pct;
        };
        const started = (): void => {
          if (recordingSince !== undefined) return;
          recordingSince = Date.now();
          tick();
        };
        tick();
        const timer = setInterval(tick, 1000);
        const labelOf = (profile: Profile): string =>
          `${(profile.target?.cmdline ?? `PID ${pid}`).split('/').pop()} (PID ${pid}${target.kind === 'ssh' ? ` on ${target.host}` : ''})`;
        // Live heat: the profile so far, about once a second, drawn in place of the loaded one
        // until the whole recording comes (or, thrown away, the loaded one comes back).
        const onPartial = (profile: Profile): void => {
          if (!handle.endedBy) deps.session.showLive({ profile, label: `${labelOf(profile)} · recording` });
        };
        try {
          const profile = await record(handle, started, onPartial);
          return { profile, label: labelOf(profile) };
        } catch (e) {
          if (e instanceof UserError && e.code === 'cancelled' && handle.endedBy === 'stop') {
            throw new UserError(`stopped before anything of PID ${pid} was recorded: there is nothing to keep`, undefined, 'stopped-empty');
          }
          throw e;
        } finally {
          clearInterval(timer);
        }
      },
    );
  } catch (e) {
    deps.session.endLive();
    if (handle.endedBy === 'discard') {
      void vscode.window.showInformationMessage(`Go Perf Lens: discarded the recording of PID ${pid}.`);
      return undefined;
    }
    throw e;
  } finally {
    done();
  }
  // A discard that came while the helper was winding down still discards.
  if (handle.endedBy === 'discard') {
    deps.session.endLive();
    void vscode.window.showInformationMessage(`Go Perf Lens: discarded the recording of PID ${pid}.`);
    return undefined;
  }
  return loaded;
}

/** Says what was kept: how long it covers, and why it is shorter than asked when it is. */
function announce(deps: ProfileDeps, loaded: LoadedProfile, pid: number): void {
  const p = loaded.profile;
  const covered = formatDuration(p.durationNanos);
  const fallback = p.event.fallbackReason ? ` (${p.event.fallbackReason})` : '';
  const how = p.target?.recordedAs ? `; ${recordedAsText(p.target.recordedAs)}` : '';
  void vscode.window.setStatusBarMessage(`Go Perf Lens: ${p.totalSamples} samples of ${p.event.name} in ${covered}${fallback}${how}`, 8000);
  if (p.ended?.by === 'stop') {
    void vscode.window.showInformationMessage(
      `Go Perf Lens: stopped early — kept ${covered} of PID ${pid} (${p.totalSamples} samples; ${p.ended.requestedSec} s were asked for).`,
    );
  } else if (p.ended?.by === 'target-exited' || p.ended?.by === 'perf-exited') {
    const what =
      p.ended.by === 'target-exited'
        ? `PID ${pid} exited after ${p.ended.afterSec.toFixed(1)} s`
        : `perf stopped after ${p.ended.afterSec.toFixed(1)} s`;
    const back = deps.history.history.previous(p) ? ['Back to the previous profile'] : [];
    void vscode.window
      .showWarningMessage(
        `Go Perf Lens: ${what} — partial profile (${p.totalSamples} samples of the ${p.ended.requestedSec} s asked for).`,
        ...back,
        'Switch profile…',
      )
      .then((choice) => {
        if (choice === 'Back to the previous profile') deps.history.back();
        else if (choice === 'Switch profile…') void deps.history.pick();
      });
  }
  if (p.totalSamples === 0) {
    const lowRate = lowRateReason(deps.config().frequencyHz, p.durationNanos / 1e9);
    void vscode.window.showWarningMessage(
      lowRate
        ? `Go Perf Lens: ${lowRate} (setting goPerfLens.frequencyHz).`
        : `PID ${pid} used no CPU while it was recorded: no samples. Put load on it and profile again.`,
    );
  }
}
