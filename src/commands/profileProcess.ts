/**
 * "Profile Go process": pick a running Go process (or launch a binary, or go to a remote
 * host), pick what to record — CPU sampling first and preselected, named for the event that
 * will be used — and Enter records for goPerfLens.duration seconds under a progress
 * notification whose Cancel stops early and keeps what was recorded ("Discard recording" drops
 * it). The result goes into the ProfileSession, so heat appears in every open editor; a shorter
 * one (stopped, or the process exited) says how much it covers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import { listGoProcesses, probeTarget, recordedAsText, rememberPassword, type GoProcess, type PasswordPrompt, type ProbeResult, type ProgressMessage, type Target } from '../capture';
import type { UiConfig } from '../ui/config';
import { formatDuration } from '../ui/format';
import type { ProfileHistoryWatcher } from '../ui/profileHistoryPicker';
import type { LoadedProfile, ProfileSession } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { lowRateReason, recordCpuProfile } from './recordCpuProfile';
import type { RecordingControl } from './recordingControl';

export interface ProfileDeps {
  session: ProfileSession;
  config: () => UiConfig;
  /** Where fetched binaries are cached. */
  cacheDir: string;
  askPassword: PasswordPrompt;
  /** Processes we launched, killed when the extension deactivates. */
  launched: Set<ChildProcess>;
  /** The recording under way (Stop keeps it, Discard drops it). */
  recording: RecordingControl;
  /** This window's earlier profiles. */
  history: ProfileHistoryWatcher;
  /** Runs the eBPF flows (latency, sched, syscalls) once a process and a mode are chosen. */
  runTrace: (target: Target, pid: number, mode: 'latency' | 'sched' | 'syscalls') => Promise<void>;
}

/** What choosing a process needs (the trace commands choose one too). */
export type ProcessPickDeps = Pick<ProfileDeps, 'config' | 'askPassword' | 'launched'>;

type ProcessItem = vscode.QuickPickItem & { pid?: number; action?: 'launch' | 'remote' };
type ModeItem = vscode.QuickPickItem & { mode: 'cpu' | 'latency' | 'sched' | 'syscalls' };

/** Asks for the sudo password of one user@host (named in the prompt), kept in memory for a few minutes. */
export function passwordPrompt(): PasswordPrompt {
  return rememberPassword(async (where) =>
    vscode.window.showInputBox({
      password: true, ignoreFocusOut: true, title: `Go Perf Lens — sudo on ${where}`,
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

function processItem(p: GoProcess): ProcessItem {
  const name = p.exe ? p.exe.replace(/ \(deleted\)$/, '').split('/').pop()! : p.comm;
  const desc = [`PID ${p.pid}`, p.goVersion ?? '', p.user ?? (p.uid !== null ? `uid ${p.uid}` : ''), uptime(p.uptimeSec)].filter(Boolean).join(' · ');
  return { label: `$(symbol-event) ${name}`, description: desc, detail: p.cmdline.join(' '), pid: p.pid };
}

/** What a process picker is for: its title, and a placeholder saying why it asks. */
export interface PickPurpose {
  title: string;
  placeholder?: string;
}

/** The quick pick of Go processes on `target`; resolves to a pid, an action, or undefined (dismissed). */
async function pickProcess(target: Target, deps: ProcessPickDeps, hostLabel: string, purpose: PickPurpose): Promise<ProcessItem | undefined> {
  const qp = vscode.window.createQuickPick<ProcessItem>();
  qp.title = `${purpose.title} — ${hostLabel}`;
  qp.placeholder = purpose.placeholder ?? 'Filter by name or PID';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.busy = true;
  const extras: ProcessItem[] = [
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(run) Launch a binary…', action: 'launch', alwaysShow: true },
    { label: '$(remote) Remote host…', action: 'remote', alwaysShow: true },
  ];
  qp.items = extras;
  const chosen = new Promise<ProcessItem | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const sel = qp.selectedItems[0] ?? qp.activeItems[0];
      // Typing a PID that the list does not show yet: take it as typed.
      if (!sel && /^\d+$/.test(qp.value.trim())) resolve({ label: qp.value, pid: Number(qp.value.trim()) });
      else resolve(sel);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
  });
  qp.show();
  listGoProcesses(target, { askPassword: deps.askPassword }).then(
    (procs) => {
      const items = procs.sort((a, b) => (a.uptimeSec ?? 0) - (b.uptimeSec ?? 0)).map(processItem);
      qp.items = [...items, ...extras];
      if (!items.length) qp.placeholder = 'No Go processes found — launch a binary, or try a remote host';
      qp.busy = false;
    },
    (err: unknown) => {
      qp.busy = false;
      qp.placeholder = err instanceof UserError ? `${err.message}${err.hint ? ` — ${err.hint}` : ''}` : `Could not list processes: ${(err as Error).message}`;
    },
  );
  try {
    return await chosen;
  } finally {
    qp.dispose();
  }
}

async function pickMode(probe: Promise<ProbeResult | undefined>): Promise<ModeItem['mode'] | undefined> {
  const qp = vscode.window.createQuickPick<ModeItem>();
  qp.title = 'What to record';
  const cpuItem = (p: ProbeResult | undefined): ModeItem => {
    const cycles = p?.recommendedEvent === 'cycles:u';
    const known = p !== undefined;
    return {
      label: `$(pulse) CPU sampling (${!known ? 'cycles, or CPU time where there is no PMU' : cycles ? 'cycles' : 'CPU time'})`,
      description: known ? (cycles ? 'perf · cycles:u' : 'perf · cpu-clock') : 'perf',
      detail: !known ? undefined : cycles ? 'Hardware cycle counter sampling' : p.fallbackReason ?? 'This machine has no hardware cycle counter: sampling CPU time (cpu-clock) instead',
      mode: 'cpu',
    };
  };
  const rest: ModeItem[] = [
    { label: '$(watch) Latency of chosen functions', description: 'eBPF uprobes', mode: 'latency' },
    { label: '$(debug-pause) Goroutine scheduling latency', description: 'eBPF', mode: 'sched' },
    { label: '$(terminal) Syscalls', description: 'eBPF', mode: 'syscalls' },
  ];
  const first = cpuItem(undefined);
  qp.items = [first, ...rest];
  qp.activeItems = [first];
  // Rename the first item when the probe answers, keeping it active so Enter still takes it.
  void probe.then((p) => {
    if (!p) return;
    const named = cpuItem(p);
    const wasFirst = qp.activeItems[0] === qp.items[0];
    qp.items = [named, ...rest];
    if (wasFirst) qp.activeItems = [named];
  });
  const result = new Promise<ModeItem['mode'] | undefined>((resolve) => {
    qp.onDidAccept(() => {
      resolve((qp.selectedItems[0] ?? qp.activeItems[0])?.mode);
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
  const argsText = await vscode.window.showInputBox({ title: `Arguments for ${bin}`, prompt: 'Space-separated arguments (none is fine)', value: '' });
  if (argsText === undefined) return undefined;
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const child = spawn(bin, argsText.split(/\s+/).filter(Boolean), { cwd, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(new UserError(`cannot launch ${bin}: ${e.message}`, 'pick an executable Go binary', 'launch-failed')));
  });
  deps.launched.add(child);
  child.once('exit', () => deps.launched.delete(child));
  return child.pid;
}

async function askRemote(deps: ProcessPickDeps): Promise<Target | undefined> {
  const host = await vscode.window.showInputBox({
    title: 'Remote host',
    prompt: 'An ssh destination: a Host from ~/.ssh/config, host, or user@host (the ssh agent and config apply)',
    value: deps.config().remoteHost,
    validateInput: (v) => (/^([A-Za-z0-9._-]+@)?[A-Za-z0-9._:%[\]-]+$/.test(v.trim()) && !v.trim().startsWith('-') ? undefined : 'Not a valid ssh destination'),
  });
  if (!host) return undefined;
  const at = host.trim().lastIndexOf('@');
  const python = deps.config().pythonPath || undefined;
  return at > 0
    ? { kind: 'ssh', user: host.trim().slice(0, at), host: host.trim().slice(at + 1), python }
    : { kind: 'ssh', host: host.trim(), python };
}

/** The process part of the flow: a pid on a target, or undefined when the user backed out. */
export async function chooseProcess(deps: ProcessPickDeps, purpose: PickPurpose = { title: 'Profile Go process' }): Promise<{ target: Target; pid: number; probe: Promise<ProbeResult | undefined> } | undefined> {
  let target: Target = { kind: 'local', python: deps.config().pythonPath || undefined };
  let hostLabel = 'this machine';
  // Ask the machine what it can record while the user picks a process.
  let probe = probeTarget(target, { askPassword: deps.askPassword }).catch(() => undefined);
  for (;;) {
    const item = await pickProcess(target, deps, hostLabel, purpose);
    if (!item) return undefined;
    if (item.action === 'launch') {
      if (target.kind !== 'local') throw new UserError('launching a binary works on this machine only', 'start the program on the remote host, then pick it from the list', 'bad-target');
      const pid = await launchBinary(deps);
      return pid === undefined ? undefined : { target, pid, probe };
    }
    if (item.action === 'remote') {
      const remote = await askRemote(deps);
      if (!remote) return undefined;
      target = remote;
      hostLabel = remote.kind === 'ssh' ? remote.host : hostLabel;
      probe = probeTarget(target, { askPassword: deps.askPassword }).catch(() => undefined);
      continue;
    }
    if (item.pid !== undefined) return { target, pid: item.pid, probe };
  }
}

export async function profileProcessCommand(deps: ProfileDeps): Promise<void> {
  const chosen = await chooseProcess(deps);
  if (!chosen) return;
  const mode = await pickMode(chosen.probe);
  if (!mode) return;
  if (mode === 'cpu') await recordCpu(deps, chosen.target, chosen.pid);
  else await deps.runTrace(chosen.target, chosen.pid, mode);
}

async function recordCpu(deps: ProfileDeps, target: Target, pid: number): Promise<void> {
  const cfg = deps.config();
  const durationSec = cfg.durationSec;
  const busy = deps.recording.current;
  if (busy) throw new UserError(`a recording of PID ${busy.pid} is under way`, 'stop it (keeps it) or discard it first: "Go Perf Lens: Stop recording" / "Discard recording"', 'busy');
  const { handle, done } = deps.recording.begin(pid);
  let loaded: LoadedProfile;
  try {
    loaded = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Profiling PID ${pid} — Cancel stops and keeps the recording`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => handle.stop());
        // The clock starts when perf records (attaching takes seconds on a busy machine); the
        // eBPF sampler sends no such progress, so its clock starts now.
        let recordingSince: number | undefined = cfg.sampler === 'bpf' ? Date.now() : undefined;
        let lastPct = 0;
        const tick = (): void => {
          let message: string;
          let pct = lastPct;
          if (handle.endedBy === 'stop') message = 'stopping, keeping what was recorded…';
          else if (recordingSince === undefined) message = 'starting perf…';
          else {
            const left = Math.max(0, durationSec - (Date.now() - recordingSince) / 1000);
            pct = Math.min(100, (100 * (durationSec - left)) / durationSec);
            message = left > 0 ? `${Math.ceil(left)} s left` : 'reading the recording…';
          }
          progress.report({ message, increment: pct - lastPct });
          lastPct = pct;
        };
        const onProgress = (m: ProgressMessage): void => {
          if (recordingSince === undefined && typeof m.perfPid === 'number') {
            recordingSince = Date.now();
            tick();
          }
        };
        tick();
        const timer = setInterval(tick, 1000);
        try {
          const profile = await recordCpuProfile(
            target,
            { pid, durationSec, freqHz: cfg.frequencyHz, event: 'auto', sampler: cfg.sampler },
            { signal: handle.signal, onStart: handle.onStart, onProgress, askPassword: deps.askPassword, binaryCacheDir: deps.cacheDir },
          );
          const name = (profile.target?.cmdline ?? `PID ${pid}`).split('/').pop();
          return { profile, label: `${name} (PID ${pid}${target.kind === 'ssh' ? ` on ${target.host}` : ''})` };
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
    if (handle.endedBy === 'discard') {
      void vscode.window.showInformationMessage(`Go Perf Lens: discarded the recording of PID ${pid}.`);
      return;
    }
    throw e;
  } finally {
    done();
  }
  // A discard that came while the helper was winding down still discards.
  if (handle.endedBy === 'discard') {
    void vscode.window.showInformationMessage(`Go Perf Lens: discarded the recording of PID ${pid}.`);
    return;
  }
  deps.session.set(loaded);
  announce(deps, loaded, pid);
}

/** Says what was kept: how long it covers, and why it is shorter than asked when it is. */
function announce(deps: ProfileDeps, loaded: LoadedProfile, pid: number): void {
  const p = loaded.profile;
  const covered = formatDuration(p.durationNanos);
  const fallback = p.event.fallbackReason ? ` (${p.event.fallbackReason})` : '';
  const how = p.target?.recordedAs ? `; ${recordedAsText(p.target.recordedAs)}` : '';
  void vscode.window.setStatusBarMessage(`Go Perf Lens: ${p.totalSamples} samples of ${p.event.name} in ${covered}${fallback}${how}`, 8000);
  if (p.ended?.by === 'stop') {
    void vscode.window.showInformationMessage(`Go Perf Lens: stopped early — kept ${covered} of PID ${pid} (${p.totalSamples} samples; ${p.ended.requestedSec} s were asked for).`);
  } else if (p.ended?.by === 'target-exited' || p.ended?.by === 'perf-exited') {
    const what = p.ended.by === 'target-exited' ? `PID ${pid} exited after ${p.ended.afterSec.toFixed(1)} s` : `perf stopped after ${p.ended.afterSec.toFixed(1)} s`;
    const back = deps.history.history.previous(p) ? ['Back to the previous profile'] : [];
    void vscode.window.showWarningMessage(`Go Perf Lens: ${what} — partial profile (${p.totalSamples} samples of the ${p.ended.requestedSec} s asked for).`, ...back, 'Switch profile…').then((choice) => {
      if (choice === 'Back to the previous profile') deps.history.back();
      else if (choice === 'Switch profile…') void deps.history.pick();
    });
  }
  if (p.totalSamples === 0) {
    const lowRate = lowRateReason(deps.config().frequencyHz, p.durationNanos / 1e9);
    void vscode.window.showWarningMessage(lowRate
      ? `Go Perf Lens: ${lowRate} (setting goPerfLens.frequencyHz).`
      : `PID ${pid} used no CPU while it was recorded: no samples. Put load on it and profile again.`);
  }
}
