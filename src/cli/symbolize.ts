/**
 * `go-perf-lens symbolize --binary PATH`: hex addresses on stdin, one per line; one JSON object
 * per line on stdout, innermost frame first:
 *   {"addr":"0x4b9080","frames":[{"function":"main.(*ledger).add","file":"/abs/main.go","line":23}]}
 *
 * Streams both ways: stdin is scanned chunk by chunk (never held whole), output is written in
 * ~1 MB batches honouring backpressure; a closed stdout (EPIPE, e.g. `| head`) ends quietly.
 * 65,536 addresses at a time are looked up in address order (far fewer cache misses than
 * random order) and written back in input order. The frames' JSON is framesJson.ts's.
 *
 * Input lines: `0x` + hex (the `0x` may be omitted, upper case is fine, surrounding spaces and
 * CR are ignored, blank lines are skipped). A line that is not an address still gets an output
 * line — `{"addr":"<the text>","frames":[]}` — so output stays aligned with input, and a warning
 * naming its line number goes to stderr; the exit status is then 1.
 */
import { UserError } from '../util/userError';
import { readBinary } from './readBinary';
import { binaryInfo, openSymbolizer, type Backend } from '../symbolize/openSymbolizer';
import { parseElf } from '../formats/elf';
import { type ByteSink, FramesJson } from './framesJson';

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
      if (v !== 'auto' && v !== 'dwarf' && v !== 'gopclntab')
        throw new UserError(`unknown backend "${v}"`, 'use auto, dwarf or gopclntab', 'usage');
      backend = v;
    } else throw new UserError(`unknown option "${a}"`, USAGE.trimEnd(), 'usage');
  }
  if (!binary) throw new UserError('symbolize needs --binary PATH', USAGE.trimEnd(), 'usage');
  return { binary, backend };
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef');
/** Addresses looked up together, in address order. */
const BATCH_ADDRESSES = 1 << 16;
/** Below this, pc × BATCH_ADDRESSES + its index is an exact double (< 2^53): one sort key. */
const SORTABLE_PC = 2 ** 37;
const ADDR_OPEN = Buffer.from('{"addr":"0x');
const FRAMES_OPEN = Buffer.from('","frames":');
const CLOSE = Buffer.from('}\n');

/** A batch being filled; `release` frees it once written. */
interface Batch {
  buf: Buffer;
  release?: () => void;
}

/** Output assembled as bytes in ~1 MB batches, written with backpressure; EPIPE ends quietly. */
class Output implements ByteSink {
  buf: Uint8Array;
  pos = 0;
  private batch: Batch;
  private ready: { bytes: Buffer; release?: () => void }[] = [];
  /** Plain batch buffers whose writes have completed, for reuse (no 1 MB allocation per batch). */
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
    this.batch = this.fresh(0);
    this.buf = this.batch.buf;
  }
  get isClosed(): boolean {
    return this.closed;
  }
  get full(): boolean {
    return this.ready.length > 0;
  }
  /**
   * Room for n more bytes at buf[pos]: a full batch joins the ready list and a fresh one
   * starts (a line may span two batches; they are written in order).
   */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.rotate(n);
  }
  private rotate(n: number): void {
    const b = this.batch;
    if (this.pos > 0) this.ready.push({ bytes: b.buf.subarray(0, this.pos), release: b.release });
    else b.release?.();
    this.batch = this.fresh(n);
    this.buf = this.batch.buf;
    this.pos = 0;
  }
  /** A batch with room for n bytes: a spare buffer, or a new one. */
  private fresh(n: number): Batch {
    if (n > BATCH_BYTES) return { buf: Buffer.allocUnsafe(n) };
    const buf = this.spare.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
    return {
      buf,
      release: () => {
        if (this.spare.length < 8) this.spare.push(buf);
      },
    };
  }
  /** `{"addr":"0x<hex>","frames":` for a pc (hex as the input gave it, less leading zeros, lower case). */
  addressOpen(pc: number): void {
    this.ensure(ADDR_OPEN.length + 14 + FRAMES_OPEN.length);
    const b = this.buf;
    let o = this.pos;
    for (let i = 0; i < ADDR_OPEN.length; i++) b[o++] = ADDR_OPEN[i]!;
    if (pc < 2 ** 32) {
      // 32-bit fast path (clz32 counts the digits; shifts need no division).
      const n = Math.max(1, (35 - Math.clz32(pc)) >>> 2);
      for (let t = pc >>> 0, p = o + n; p > o; t >>>= 4) b[--p] = HEX_DIGITS[t & 15]!;
      o += n;
    } else {
      let n = 1;
      for (let t = pc; t >= 16; t = Math.floor(t / 16)) n++;
      for (let t = pc, p = o + n; p > o; t = Math.floor(t / 16)) b[--p] = HEX_DIGITS[t % 16]!;
      o += n;
    }
    for (let i = 0; i < FRAMES_OPEN.length; i++) b[o++] = FRAMES_OPEN[i]!;
    this.pos = o;
  }
  /** `}` and the newline that end an address line. */
  lineEnd(): void {
    this.ensure(2);
    this.buf[this.pos++] = CLOSE[0]!;
    this.buf[this.pos++] = CLOSE[1]!;
  }
  text(s: string): void {
    const bytes = Buffer.from(s);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  async flush(all = false): Promise<void> {
    if (all) this.rotate(0);
    const items = this.ready;
    this.ready = [];
    for (const { bytes, release } of items) {
      if (this.closed) return;
      // Once written, a batch is free again (the stream holds it until then).
      if (!this.out.write(bytes, release && (() => release()))) {
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
  frames: FramesJson,
  input: AsyncIterable<Buffer | string>,
  output: NodeJS.WritableStream,
  warn: (msg: string) => void,
): Promise<number> {
  const out = new Output(output);
  let lineNo = 0;
  let bad = 0;
  let carry: Buffer | undefined;

  // Addresses are collected, looked up together in address order, then written in input order.
  // Lines that are not looked up (bad ones, addresses above 2^53) wait in `texts` as their
  // finished output, so the order of lines is kept.
  const pcs = new Float64Array(BATCH_ADDRESSES);
  const keys = new Float64Array(BATCH_ADDRESSES);
  // The frames found, as id triples: address j's are `frameCount[j]` triples from `frameAt[j]` of `found`.
  const frameAt = new Int32Array(BATCH_ADDRESSES);
  const frameCount = new Int32Array(BATCH_ADDRESSES);
  let found = new Int32Array(BATCH_ADDRESSES * 3 * 4);
  const texts: (string | undefined)[] = [];
  let pending = 0;
  const writeBatch = (): void => {
    if (pending === 0) return;
    // Sorted by pc (its index in the low bits); a batch with a pc too large for that stays in input order.
    let sortable = true;
    for (let j = 0; j < pending; j++) {
      const pc = pcs[j]!;
      if (pc >= SORTABLE_PC) sortable = false;
      keys[j] = Number.isNaN(pc) ? j : pc * BATCH_ADDRESSES + j; // a text line (NaN) sorts first
    }
    const order = keys.subarray(0, pending);
    if (sortable) order.sort();
    let used = 0;
    for (let s = 0; s < pending; s++) {
      const j = sortable ? order[s]! % BATCH_ADDRESSES : s;
      if (texts[j] !== undefined) continue;
      const ids = frames.idsAt(pcs[j]!);
      const n = frames.count;
      if (used + n * 3 > found.length) {
        const grown = new Int32Array(Math.max(found.length * 2, used + n * 3));
        grown.set(found.subarray(0, used));
        found = grown;
      }
      for (let k = 0; k < n * 3; k++) found[used + k] = ids[k]!;
      frameAt[j] = used;
      frameCount[j] = n;
      used += n * 3;
    }
    for (let j = 0; j < pending; j++) {
      const text = texts[j];
      if (text !== undefined) {
        out.text(text);
        continue;
      }
      out.addressOpen(pcs[j]!);
      frames.writeIds(found, frameAt[j]!, frameCount[j]!, out);
      out.lineEnd();
    }
    pending = 0;
    texts.length = 0;
  };
  const textLine = (text: string): void => {
    pcs[pending] = NaN;
    texts[pending++] = text;
    if (pending === pcs.length) writeBatch();
  };

  const badLine = (b: Buffer, s: number, e: number): void => {
    bad++;
    const text = b.toString('utf8', s, e);
    if (bad <= MAX_WARNINGS)
      warn(
        `line ${lineNo}: ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)} is not a hex address (0x…); wrote "frames":[] for it`,
      );
    textLine(`{"addr":${JSON.stringify(text)},"frames":[]}\n`);
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
    if (digits > 13 && v > Number.MAX_SAFE_INTEGER) textLine(`{"addr":"0x${b.toString('latin1', p, e).toLowerCase()}","frames":[]}\n`);
    else {
      texts[pending] = undefined;
      pcs[pending++] = v;
      if (pending === pcs.length) writeBatch();
    }
  };

  for await (const chunk of input) {
    let b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (carry) {
      b = Buffer.concat([carry, b]);
      carry = undefined;
    }
    let s = 0;
    const n = b.length;
    for (let i = 0; i < n; i++) {
      if (b[i] === 10) {
        line(b, s, i);
        s = i + 1;
      }
    }
    if (s < b.length) {
      if (b.length - s > 1 << 20)
        throw new UserError(`line ${lineNo + 1} is longer than 1 MB: not an address list`, 'feed one hex address per line', 'bad-input');
      carry = Buffer.from(b.subarray(s));
    }
    if (out.full) await out.flush();
    if (out.isClosed) return bad;
  }
  if (carry && carry.length) line(carry, 0, carry.length);
  writeBatch();
  await out.end();
  if (bad > MAX_WARNINGS) warn(`${bad} lines in all were not hex addresses`);
  return bad;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Lean read: a Go binary symbolized by its .gopclntab needs neither its code nor its DWARF.
  let bytes = readBinary(args.binary, args.backend !== 'dwarf');
  // Where the .gopclntab cannot serve (damaged), auto falls back to DWARF, which the lean read left unread.
  if (args.backend === 'auto' && !pclntabUsable(bytes)) bytes = readBinary(args.binary);
  const { symbolizer } = openSymbolizer(bytes, args.binary, args.backend);
  const bad = await symbolizeStream(new FramesJson(symbolizer), process.stdin, process.stdout, (m) =>
    process.stderr.write(`go-perf-lens: ${m}\n`),
  );
  return bad > 0 ? 1 : 0;
}

function pclntabUsable(bytes: Uint8Array): boolean {
  try {
    return binaryInfo(parseElf(bytes)).hasPclntab;
  } catch {
    return true; // not an ELF file: openSymbolizer says so
  }
}
