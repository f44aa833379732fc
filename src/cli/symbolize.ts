/**
 * `go-perf-lens symbolize --binary PATH`: hex addresses on stdin, one per line; one JSON object
 * per line on stdout, innermost frame first:
 *   {"addr":"0x4b9080","frames":[{"function":"main.(*ledger).add","file":"/abs/main.go","line":23}]}
 *
 * Streams both ways: stdin is scanned chunk by chunk (never held whole), output is written in
 * ~1 MB batches honouring backpressure; a closed stdout (EPIPE, e.g. `| head`) ends quietly.
 *
 * Input lines: `0x` + hex (the `0x` may be omitted, upper case is fine, surrounding spaces and
 * CR are ignored, blank lines are skipped). A line that is not an address still gets an output
 * line — `{"addr":"<the text>","frames":[]}` — so output stays aligned with input, and a warning
 * naming its line number goes to stderr; the exit status is then 1.
 */
import { UserError } from '../util/userError';
import { readBinary } from './readBinary';
import { openSymbolizer, type Backend } from '../symbolize/openSymbolizer';
import { type ByteSink, GopclntabSymbolizer } from '../symbolize/gopclntabSymbolizer';
import type { Symbolizer } from '../symbolize/symbolizer';

const USAGE = `usage: go-perf-lens symbolize --binary PATH [--backend auto|dwarf|gopclntab] < addresses
  reads hex addresses (0x…), one per line, on stdin; writes one JSON line per address:
  {"addr":"0x4b9080","frames":[{"function":"main.f","file":"/abs/main.go","line":23}]}
  innermost frame first; "frames":[] where the address maps to nothing. Lines that are not
  addresses get "frames":[] and a warning on stderr (exit status 1).
`;

const BATCH_BYTES = 1 << 20;
const MAX_WARNINGS = 20;

export interface SymbolizeArgs {
  binary: string;
  backend: Backend;
}

export function parseArgs(argv: string[]): SymbolizeArgs | 'help' {
  let binary: string | undefined;
  let backend: Backend = 'auto';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0 && a.startsWith('--')) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UserError(`${key} needs a value`, USAGE.trimEnd(), 'usage');
      return v;
    };
    if (key === '--help' || key === '-h') return 'help';
    else if (key === '--binary') binary = value();
    else if (key === '--backend') {
      const v = value();
      if (v !== 'auto' && v !== 'dwarf' && v !== 'gopclntab') throw new UserError(`unknown backend "${v}"`, 'use auto, dwarf or gopclntab', 'usage');
      backend = v;
    } else throw new UserError(`unknown option "${a}"`, USAGE.trimEnd(), 'usage');
  }
  if (!binary) throw new UserError('symbolize needs --binary PATH', USAGE.trimEnd(), 'usage');
  return { binary, backend };
}

/** Writes the frames of a numeric pc as a JSON array into a sink. */
export type FramesWriter = (pc: number, sink: ByteSink) => void;

export function framesJsonWriter(sym: Symbolizer): FramesWriter {
  if (sym instanceof GopclntabSymbolizer) return (pc, sink) => sym.writeFramesJson(pc, sink);
  return (pc, sink) => {
    const frames = sym.symbolize(BigInt(pc));
    const bytes = Buffer.from(frames.length === 0 ? '[]' : JSON.stringify(frames.map((f) => ({ function: f.function, file: f.file, line: f.line }))));
    sink.ensure(bytes.length);
    sink.buf.set(bytes, sink.pos);
    sink.pos += bytes.length;
  };
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) { HEX[97 + i] = 10 + i; HEX[65 + i] = 10 + i; }

const ADDR_OPEN = Buffer.from('{"addr":"0x');
const FRAMES_OPEN = Buffer.from('","frames":');
const CLOSE = Buffer.from('}\n');

/** Output assembled as bytes in ~1 MB buffers, written with backpressure; EPIPE ends quietly. */
class Output implements ByteSink {
  buf: Buffer = Buffer.allocUnsafe(BATCH_BYTES);
  pos = 0;
  private ready: Buffer[] = [];
  /** Whole batch buffers whose writes have completed, for reuse (no 1 MB allocation per batch). */
  private spare: Buffer[] = [];
  private closed = false;
  private drainWaiter: (() => void) | undefined;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', (e: NodeJS.ErrnoException) => {
      // The reader went away (`| head`): stop quietly; anything else is a real failure.
      this.closed = true;
      if (e.code !== 'EPIPE') process.stderr.write(`go-perf-lens: cannot write output: ${e.message}\n`);
      this.drainWaiter?.();
    });
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get full(): boolean {
    return this.ready.length > 0;
  }
  /**
   * Room for n more bytes at buf[pos]: a full buffer joins the ready list and a fresh one
   * starts (a line may span two buffers; they are written in order).
   */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
      this.buf = n <= BATCH_BYTES ? this.fresh() : Buffer.allocUnsafe(n);
      this.pos = 0;
    }
  }
  /** One address line: {"addr":"0x<hex>","frames":<frames>}\n, hex lower-cased from src[s, e). */
  addressLine(src: Uint8Array, s: number, e: number, pc: number, frames: FramesWriter | undefined): void {
    this.ensure(ADDR_OPEN.length + (e - s) + FRAMES_OPEN.length + 2);
    const b = this.buf;
    let o = this.pos;
    for (let i = 0; i < ADDR_OPEN.length; i++) b[o++] = ADDR_OPEN[i]!;
    for (let i = s; i < e; i++) b[o++] = src[i]! | 0x20; // 'A'-'F' → 'a'-'f'; digits unchanged
    for (let i = 0; i < FRAMES_OPEN.length; i++) b[o++] = FRAMES_OPEN[i]!;
    this.pos = o;
    if (frames) {
      frames(pc, this);
    } else {
      b[this.pos++] = 0x5b;
      b[this.pos++] = 0x5d;
    }
    this.ensure(2);
    this.buf[this.pos++] = CLOSE[0]!;
    this.buf[this.pos++] = CLOSE[1]!;
  }
  private fresh(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
  }
  text(s: string): void {
    const bytes = Buffer.from(s);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  async flush(all = false): Promise<void> {
    if (all && this.pos > 0) {
      this.ready.push(this.buf.subarray(0, this.pos));
      this.buf = this.fresh();
      this.pos = 0;
    }
    const bufs = this.ready;
    this.ready = [];
    for (const chunk of bufs) {
      if (this.closed) return;
      // Once written, a batch buffer is free again (the stream holds it until then).
      const whole = chunk.buffer.byteLength === BATCH_BYTES && chunk.byteOffset === 0 ? Buffer.from(chunk.buffer, 0, BATCH_BYTES) : undefined;
      if (!this.out.write(chunk, whole && (() => { if (this.spare.length < 8) this.spare.push(whole); }))) {
        await new Promise<void>((resolve) => {
          this.drainWaiter = resolve;
          this.out.once('drain', resolve);
        });
        this.drainWaiter = undefined;
      }
    }
  }
  async end(): Promise<void> {
    await this.flush(true);
    if (this.closed) return;
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}

/**
 * Streams addresses from `input` to JSON lines on `output`. Returns the count of bad lines.
 * Exported for tests and for other front ends.
 */
export async function symbolizeStream(
  framesJson: FramesWriter,
  input: AsyncIterable<Buffer | string>,
  output: NodeJS.WritableStream,
  warn: (msg: string) => void,
): Promise<number> {
  const out = new Output(output);
  let lineNo = 0;
  let bad = 0;
  let carry: Buffer | undefined;

  const badLine = (b: Buffer, s: number, e: number): void => {
    bad++;
    const text = b.toString('utf8', s, e);
    if (bad <= MAX_WARNINGS) warn(`line ${lineNo}: ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)} is not a hex address (0x…); wrote "frames":[] for it`);
    out.text(`{"addr":${JSON.stringify(text)},"frames":[]}\n`);
  };

  // One line [s, e) of b.
  const line = (b: Buffer, s: number, e: number): void => {
    lineNo++;
    while (s < e && (b[s] === 32 || b[s] === 9)) s++;
    while (e > s && (b[e - 1] === 32 || b[e - 1] === 9 || b[e - 1] === 13)) e--;
    if (s === e) return;
    let p = s;
    if (e - p > 2 && b[p] === 48 && (b[p + 1] === 120 || b[p + 1] === 88)) p += 2;
    while (p < e - 1 && b[p] === 48) p++; // leading zeros
    const digits = e - p;
    if (digits > 16) return badLine(b, s, e);
    let v = 0;
    for (let i = p; i < e; i++) {
      const d = HEX[b[i]!]!;
      if (d < 0) return badLine(b, s, e);
      v = v * 16 + d;
    }
    // Above 2^53 a number loses bits; no user-space text address is that high.
    out.addressLine(b, p, e, v, digits > 13 && v > Number.MAX_SAFE_INTEGER ? undefined : framesJson);
  };

  for await (const chunk of input) {
    let b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (carry) { b = Buffer.concat([carry, b]); carry = undefined; }
    let s = 0;
    const n = b.length;
    for (let i = 0; i < n; i++) {
      if (b[i] === 10) {
        line(b, s, i);
        s = i + 1;
      }
    }
    if (s < b.length) {
      if (b.length - s > 1 << 20) throw new UserError(`line ${lineNo + 1} is longer than 1 MB: not an address list`, 'feed one hex address per line', 'bad-input');
      carry = Buffer.from(b.subarray(s));
    }
    if (out.full) await out.flush();
    if (out.isClosed) return bad;
  }
  if (carry && carry.length) line(carry, 0, carry.length);
  await out.end();
  if (bad > MAX_WARNINGS) warn(`${bad} lines in all were not hex addresses`);
  return bad;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') { process.stdout.write(USAGE); return 0; }
  // Lean read: a Go binary symbolized by its .gopclntab needs neither its code nor its DWARF.
  const bytes = readBinary(args.binary, args.backend !== 'dwarf');
  const { symbolizer } = openSymbolizer(bytes, args.binary, args.backend);
  const bad = await symbolizeStream(framesJsonWriter(symbolizer), process.stdin, process.stdout, (m) => process.stderr.write(`go-perf-lens: ${m}\n`));
  return bad > 0 ? 1 : 0;
}
