/**
 * The output of `go-perf-lens symbolize`: an address's frames as a JSON array, byte for byte
 * what JSON.stringify gives for `[{function, file, line}, …]`, from any Symbolizer. Frames are
 * asked for as ids (Symbolizer.frameIdsAt), and per id a function's `{"function":NAME,"file":`
 * and a file's `FILE,"line":` are encoded once and copied after: a million addresses make no
 * strings and no objects. Adding a field to a frame is a change here only.
 */
import type { Symbolizer } from '../symbolize/symbolizer';

/** Where output is assembled: `ensure(n)` guarantees n free bytes at buf[pos]. */
export interface ByteSink {
  buf: Uint8Array;
  pos: number;
  ensure(n: number): void;
}

const OPEN = 0x5b, // [
  CLOSE = 0x5d, // ]
  BRACE_CLOSE = 0x7d, // }
  COMMA = 0x2c;
/** Room for a frame's line (any number's JSON text is at most 24 bytes) and its `}`. */
const LINE_ROOM = 25;

export class FramesJson {
  /** By id: `{"function":NAME,"file":` of a function, `FILE,"line":` of a file (UTF-8). */
  private readonly namePieces: (Uint8Array | undefined)[] = [];
  private readonly filePieces: (Uint8Array | undefined)[] = [];
  private ids = new Int32Array(64 * 3);

  constructor(private readonly sym: Pick<Symbolizer, 'frameIdsAt' | 'stringOf'>) {}

  /**
   * The frames of pc as [name id, file id, line] triples (innermost first) in the returned
   * array, valid until the next call; the frame count in `count`.
   */
  idsAt(pc: number): Int32Array {
    let n = this.sym.frameIdsAt(pc, this.ids);
    if (n * 3 > this.ids.length) n = this.sym.frameIdsAt(pc, (this.ids = new Int32Array(n * 3)));
    this.count = n;
    return this.ids;
  }
  count = 0;

  /** Writes the frames of pc as a JSON array. */
  write(pc: number, sink: ByteSink): void {
    const ids = this.idsAt(pc);
    this.writeIds(ids, 0, this.count, sink);
  }

  /** Writes n frames given as triples from ids[at] as a JSON array (`[]` when n is 0). */
  writeIds(ids: Int32Array, at: number, n: number, sink: ByteSink): void {
    sink.ensure(1);
    sink.buf[sink.pos++] = OPEN;
    for (let k = 0, p = at; k < n; k++, p += 3) {
      const nameId = ids[p]!,
        fileId = ids[p + 1]!;
      const name = this.namePieces[nameId] ?? this.piece(this.namePieces, nameId, '{"function":', ',"file":');
      const file = this.filePieces[fileId] ?? this.piece(this.filePieces, fileId, '', ',"line":');
      sink.ensure(1 + name.length + file.length + LINE_ROOM);
      const b = sink.buf;
      let o = sink.pos;
      if (k > 0) b[o++] = COMMA;
      b.set(name, o);
      o += name.length;
      b.set(file, o);
      o += file.length;
      o = writeLine(b, o, ids[p + 2]!);
      b[o++] = BRACE_CLOSE;
      sink.pos = o;
    }
    sink.ensure(1);
    sink.buf[sink.pos++] = CLOSE;
  }

  private piece(pieces: (Uint8Array | undefined)[], id: number, before: string, after: string): Uint8Array {
    while (pieces.length <= id) pieces.push(undefined); // kept dense
    return (pieces[id] = Buffer.from(before + JSON.stringify(this.sym.stringOf(id)) + after));
  }
}

/** A line number as JSON.stringify writes it: digits for a non-negative one, '-' first else. */
function writeLine(b: Uint8Array, o: number, v: number): number {
  if (v < 0) {
    b[o++] = 45; // a corrupt program's wrapped line
    v = -v;
  }
  let n = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
  let p = o + n;
  for (let t = v; p > o; t = Math.floor(t / 10)) b[--p] = 48 + (t % 10);
  return o + n;
}
