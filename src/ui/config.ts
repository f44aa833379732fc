/**
 * The extension's settings, read once into a readonly object and rebuilt only when a
 * `goPerfLens.*` setting changes (DESIGN habit 9).
 */
import * as vscode from 'vscode';
import type { LineFigureAmount } from './format';

export interface UiConfig {
  readonly durationSec: number;
  readonly frequencyHz: number;
  readonly lineFigure: 'self' | 'cumulative' | 'off';
  readonly lineFigureAmount: LineFigureAmount;
  readonly heatThreshold: number;
  readonly codeLens: boolean;
  readonly pathMappings: Readonly<Record<string, string>>;
  readonly remoteHost: string;
  /** Python that imports bcc on the profiled machine; '' = /usr/bin/python3, else python3 on PATH. */
  readonly pythonPath: string;
  /** CPU sampler: auto (the eBPF sampler where it runs, else perf), perf record, or the eBPF sampler. */
  readonly sampler: 'auto' | 'perf' | 'bpf';
}

function read(): UiConfig {
  const c = vscode.workspace.getConfiguration('goPerfLens');
  const pick = <T extends string>(key: string, allowed: readonly T[], dflt: T): T => {
    const v = c.get<string>(key);
    return (allowed as readonly string[]).includes(v ?? '') ? (v as T) : dflt;
  };
  return Object.freeze({
    durationSec: Math.max(1, c.get<number>('duration', 10)),
    frequencyHz: Math.max(1, c.get<number>('frequencyHz', 999)),
    lineFigure: pick('lineFigure', ['self', 'cumulative', 'off'] as const, 'cumulative'),
    lineFigureAmount: pick('lineFigureAmount', ['samples', 'time', 'none'] as const, 'samples'),
    heatThreshold: Math.max(0, c.get<number>('heatThreshold', 0.001)),
    codeLens: c.get<boolean>('codeLens', true),
    pathMappings: Object.freeze({ ...(c.get<Record<string, string>>('pathMappings') ?? {}) }),
    remoteHost: c.get<string>('remoteHost', ''),
    pythonPath: c.get<string>('pythonPath', '').trim(),
    sampler: pick('sampler', ['auto', 'perf', 'bpf'] as const, 'auto'),
  });
}

export class ConfigWatcher implements vscode.Disposable {
  private current = read();
  private readonly emitter = new vscode.EventEmitter<UiConfig>();
  readonly onDidChange = this.emitter.event;
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (!e.affectsConfiguration('goPerfLens')) return;
    this.current = read();
    this.emitter.fire(this.current);
  });

  get value(): UiConfig {
    return this.current;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
