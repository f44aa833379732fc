/**
 * The eBPF tracers' side of the target's executable (runs on the ingest worker, see
 * ingestWorker.ts): its ELF parsed once, the probes planned from it (names → entry and RET
 * addresses, runtime.g's field offsets), and the tracers' results named with it (where a
 * goroutine was created, the Go call sites of syscalls). goTracing.ts asks for these.
 */
import { type ElfFile, parseElf } from '../formats/elf';
import { openGoPclntab } from '../formats/openGoPclntab';
import {
  type GoroutineOrigin,
  type GoroutineOriginPcs,
  toSchedLatency,
  toSyscallStats,
  type WireSchedResult,
  type WireSyscallsResult,
} from '../ingest/ebpfResults';
import type { SchedLatency, SyscallStat } from '../model/profile';
import { GopclntabSymbolizer } from '../symbolize/gopclntabSymbolizer';
import { gFieldOffsetFromDwarf, goidOffset } from '../symbolize/goRuntimeLayout';
import { GoBinaryIndex, type TracePlan } from '../symbolize/goTracePlan';
import type { SourceFrame } from '../symbolize/symbolizer';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';

/** The build ids of the executable traced (Go's, GNU's): which program a result measured. */
export interface BuildIds {
  goBuildId?: string;
  gnuBuildId?: string;
}

/** What the scheduling-latency probe needs: runtime.casgstatus's probe point and runtime.g's field offsets. */
export interface SchedProbes {
  casgstatus: number;
  goidOffset: number;
  goidOffsetSource: 'dwarf' | 'table';
  /** From DWARF only (absent in stripped binaries): where each goroutine was created and what it runs. */
  gopcOffset?: number;
  startpcOffset?: number;
}

export class TraceTarget {
  readonly elf: ElfFile;
  private index?: GoBinaryIndex;

  /** Parses the executable of PID `pid`; one that is not a 64-bit ELF file is a not-go UserError. */
  constructor(bytes: Uint8Array, pid: number) {
    try {
      this.elf = parseElf(bytes);
    } catch (e) {
      if (e instanceof FormatError)
        throw new UserError(
          `PID ${pid} is not a Go program: its executable is not a 64-bit ELF file (${e.message})`,
          'pass the PID of a Go process',
          'not-go',
        );
      throw e;
    }
  }

  buildIds(): BuildIds {
    const { goBuildId, gnuBuildId } = this.elf;
    return { ...(goBuildId ? { goBuildId } : {}), ...(gnuBuildId ? { gnuBuildId } : {}) };
  }

  /** Opened on first use: a non-Go or untraceable binary is refused here (see GoBinaryIndex). */
  private goIndex(): GoBinaryIndex {
    return (this.index ??= new GoBinaryIndex(this.elf));
  }

  /** The uprobe addresses of Go functions named as Go names them (go_func_cycles). */
  plan(functions: string[]): TracePlan {
    return this.goIndex().plan(functions);
  }

  schedProbes(): SchedProbes {
    const idx = this.goIndex();
    const goid = goidOffset(this.elf, idx.goVersion);
    const gopc = gFieldOffsetFromDwarf(this.elf, 'gopc');
    const startpc = gFieldOffsetFromDwarf(this.elf, 'startpc');
    return {
      casgstatus: Number(idx.probesOf(idx.resolve('runtime.casgstatus')[0]!).entry),
      goidOffset: goid.offset,
      goidOffsetSource: goid.source,
      ...(gopc !== undefined ? { gopcOffset: gopc } : {}),
      ...(gopc !== undefined && startpc !== undefined ? { startpcOffset: startpc } : {}),
    };
  }

  /** The scheduling-latency result, each worst-waiting goroutine's origin named. */
  schedLatency(wire: WireSchedResult): SchedLatency {
    const sym = this.symbolizer();
    return toSchedLatency(wire, sym && goroutineOrigin(sym));
  }

  /** The syscalls result, its Go call sites named. */
  syscallStats(wire: WireSyscallsResult): SyscallStat[] {
    const sym = this.symbolizer();
    // Return addresses point after the call: look up pc-1 so the line is the call's.
    return toSyscallStats(wire, sym && ((pc) => sym.symbolize(pc - 1n).map(frameText)));
  }

  /** Names from the pclntab (any Go binary, even stripped); undefined without one. */
  private symbolizer(): GopclntabSymbolizer | undefined {
    const tab = openGoPclntab(this.elf);
    return tab && new GopclntabSymbolizer(tab);
  }
}

/** The full file name: the latency panel opens the site (it shows the base name). */
function frameText(f: SourceFrame): string {
  return `${f.function} (${f.file}:${f.line})`;
}

/**
 * Names a goroutine's creation PC (the return address of its newproc call), its start PC and the
 * stack that created it. The helper's walk starts inside the runtime (casgstatus, newproc1,
 * systemstack); the `go` statement's frame is the one whose return address is gopc, and the
 * stack is kept from there only: a walk that does not pass through gopc is not this goroutine's.
 */
function goroutineOrigin(sym: GopclntabSymbolizer): (pcs: GoroutineOriginPcs) => GoroutineOrigin {
  return ({ gopc, startpc, creationStack }) => {
    const at = sym.symbolize(gopc - 1n)[0];
    const start = startpc !== undefined ? sym.symbolize(startpc)[0] : undefined;
    const from = creationStack?.indexOf(gopc) ?? -1;
    // Return addresses: the call is the byte before; inlined calls expand, innermost first.
    const stack = from >= 0 ? creationStack!.slice(from).flatMap((ret) => sym.symbolize(ret - 1n).map(frameText)) : [];
    return {
      ...(at ? { createdAt: frameText(at) } : {}),
      ...(start ? { startFunction: start.function } : {}),
      ...(stack.length ? { creationStack: stack } : {}),
    };
  };
}
