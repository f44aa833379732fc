/**
 * parsePerfData on hand-written bytes: every field commented, so the layout the decoder
 * expects is written down independently of it (include/uapi/linux/perf_event.h,
 * tools/perf/Documentation/perf.data-file-format.txt).
 */
import * as assert from 'node:assert/strict';
import {
  type FileReader,
  MappingIndex,
  PERF_CONTEXT,
  type PerfData,
  PerfDataStream,
  chainU64,
  ipU64,
  parsePerfData as parseWhole,
  parsePerfDataFile,
  userCallchain,
} from '../../../src/formats/perfData';
import { FormatError } from '../../../src/util/byteReader';

/** Little-endian byte builder. */
class B {
  private readonly parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(x: number): this {
    this.parts.push(x & 0xff);
    return this;
  }
  u16(x: number): this {
    return this.u8(x).u8(x >> 8);
  }
  u32(x: number): this {
    for (let k = 0; k < 4; k++) this.u8(Math.floor(x / 2 ** (8 * k)));
    return this;
  }
  u64(x: bigint | number): this {
    const v = BigInt.asUintN(64, BigInt(x));
    for (let k = 0n; k < 8n; k++) this.u8(Number((v >> (8n * k)) & 0xffn));
    return this;
  }
  str(s: string, padTo: number): this {
    const b = Buffer.from(s);
    for (let k = 0; k < padTo; k++) this.u8(k < b.length ? b[k]! : 0);
    return this;
  }
  bytes(b: B): this {
    for (const x of b.parts) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A FileReader over bytes in memory, counting what it was asked for. */
function readerOf(bytes: Uint8Array, asked: [number, number][] = []): FileReader {
  return (pos, buf, at, len) => {
    const n = Math.max(0, Math.min(len, bytes.length - pos));
    buf.set(bytes.subarray(pos, pos + n), at);
    asked.push([pos, n]);
    return n;
  };
}

function outcome(f: () => PerfData): PerfData | { error: string; section: string; offset: number } {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return { error: e.message, section: e.section, offset: e.offset };
  }
}

/**
 * parsePerfData, checked against parsePerfDataFile of the same bytes read in pieces of several
 * sizes (records cut by the pieces everywhere, some larger than a piece): the same result, or
 * the same error at the same offset.
 */
function parsePerfData(b: Uint8Array): PerfData {
  const whole = outcome(() => parseWhole(b));
  for (const piece of [64, 72, 200])
    assert.deepStrictEqual(
      outcome(() => parsePerfDataFile(b.length, readerOf(b), piece)),
      whole,
      `read in pieces of ${piece} bytes`,
    );
  if ('error' in whole) return parseWhole(b); // throws the error
  return whole;
}

const SAMPLE_IP = 1,
  SAMPLE_TID = 2,
  SAMPLE_TIME = 4,
  SAMPLE_ID = 0x40,
  SAMPLE_PERIOD = 0x100,
  SAMPLE_CALLCHAIN = 0x20,
  SAMPLE_IDENTIFIER = 0x10000;
const FLAG_EXCLUDE_GUEST = 1n << 20n; // perf sets it on every event unless told to sample guests
const FLAG_FREQ = 1n << 10n,
  FLAG_SAMPLE_ID_ALL = 1n << 18n,
  FLAG_EXCLUDE_KERNEL = 1n << 5n,
  FLAG_EXCLUDE_HV = 1n << 6n;

/** A 64-byte (PERF_ATTR_SIZE_VER0) perf_event_attr. */
function attr(o: { type?: number; config?: number; period: number; sampleType: number; flags: bigint }): B {
  return new B()
    .u32(o.type ?? 1) // type: PERF_TYPE_SOFTWARE
    .u32(64) // size: PERF_ATTR_SIZE_VER0
    .u64(o.config ?? 0) // config: PERF_COUNT_SW_CPU_CLOCK
    .u64(o.period) // sample_period / sample_freq
    .u64(o.sampleType) // sample_type
    .u64(0) // read_format
    .u64(o.flags) // disabled, inherit, ..., freq (bit 10), sample_id_all (bit 18)
    .u32(0) // wakeup_events
    .u32(0) // bp_type
    .u64(0); // config1 (bp_addr); config2 came with VER1 (72 bytes)
}

/** PERF_RECORD_SAMPLE with IP|TID|TIME|PERIOD|CALLCHAIN. */
function sample(pid: number, tid: number, time: number, ip: bigint, period: number, chain: bigint[], misc = 2): B {
  const body = new B()
    .u64(ip) // ip
    .u32(pid)
    .u32(tid) // pid, tid
    .u64(time) // time
    .u64(period) // period
    .u64(chain.length); // callchain nr
  for (const c of chain) body.u64(c); // callchain ips
  return new B()
    .u32(9)
    .u16(misc)
    .u16(8 + body.length)
    .bytes(body); // header: type SAMPLE, misc (cpumode), size
}

/** A whole file: header, one attr + its ids, data records, and a HOSTNAME feature. */
function file(attrs: { a: B; ids: number[] }[], records: B[], hostname?: string): Uint8Array {
  const attrSize = 64 + 16;
  const idsOff = 104;
  const nIds = attrs.reduce((n, x) => n + x.ids.length, 0);
  const attrsOff = idsOff + nIds * 8;
  const dataOff = attrsOff + attrs.length * attrSize;
  const data = new B();
  for (const r of records) data.bytes(r);
  const featTable = dataOff + data.length;
  const h = new B()
    .str('PERFILE2', 8) // magic
    .u64(104) // size of this header
    .u64(attrSize) // attr_size: perf_event_attr + perf_file_section ids
    .u64(attrsOff)
    .u64(attrs.length * attrSize) // attrs section
    .u64(dataOff)
    .u64(data.length) // data section
    .u64(0)
    .u64(0) // event_types (unused)
    .u64(hostname ? 1n << 3n : 0n)
    .u64(0)
    .u64(0)
    .u64(0); // feature bitmap: bit 3 = HEADER_HOSTNAME
  let idAt = idsOff;
  for (const x of attrs) for (const id of x.ids) h.u64(id); // the ids, attr by attr
  for (const x of attrs) {
    h.bytes(x.a)
      .u64(idAt)
      .u64(x.ids.length * 8);
    idAt += x.ids.length * 8;
  } // attr + ids section
  h.bytes(data);
  if (hostname) {
    h.u64(featTable + 16).u64(4 + 8); // feature table: HOSTNAME at (offset, size)
    h.u32(8).str(hostname, 8); // perf_header_string: len (padded), bytes
  }
  return h.done();
}

const FP = SAMPLE_IP | SAMPLE_TID | SAMPLE_TIME | SAMPLE_PERIOD | SAMPLE_CALLCHAIN;
const USER = BigInt.asUintN(64, BigInt(PERF_CONTEXT.USER)),
  KERNEL = BigInt.asUintN(64, BigInt(PERF_CONTEXT.KERNEL));

describe('parsePerfData on hand-written bytes', function () {
  const minimal = () =>
    file(
      [{ a: attr({ period: 999, sampleType: FP, flags: FLAG_FREQ | FLAG_EXCLUDE_GUEST }), ids: [7] }],
      [
        sample(100, 101, 5_000_000_123, 0x401234n, 1_001_001, [USER, 0x401234n, 0x405678n]),
        sample(100, 102, 5_001_000_456, 0xffffffff81000e06n, 1_001_002, [KERNEL, 0xffffffff81000e06n, USER, 0x401240n, 0x4056a0n], 1),
      ],
      'box',
    );

  it('a minimal file: one attr, two samples, a feature', function () {
    const d = parsePerfData(minimal());
    assert.equal(d.pipeMode, false);
    assert.equal(d.truncated, undefined);
    assert.equal(d.attrs.length, 1);
    const a = d.attrs[0]!;
    assert.equal(a.name, 'cpu-clock');
    assert.equal(a.freq, true);
    assert.equal(a.sampleFreq, 999);
    assert.deepEqual(a.ids, [7n]);
    assert.equal(d.features.hostname, 'box');
    assert.deepEqual(d.features.present, [3]);
    const s = d.samples;
    assert.equal(s.count, 2);
    assert.deepEqual([...s.pid], [100, 100]);
    assert.deepEqual([...s.tid], [101, 102]);
    assert.deepEqual([...s.time], [5_000_000_123, 5_001_000_456]);
    assert.deepEqual([...s.period], [1_001_001, 1_001_002]);
    assert.deepEqual([...s.cpumode], [2, 1]);
    assert.equal(ipU64(s, 1), 0xffffffff81000e06n);
    assert.deepEqual([...s.chainLength], [3, 5]);
    assert.deepEqual(
      Array.from({ length: 5 }, (_, k) => chainU64(s, s.chainOffset[1]! + k)),
      [KERNEL, 0xffffffff81000e06n, USER, 0x401240n, 0x4056a0n],
    );
    // Markers are small negatives; user frames exact numbers.
    assert.equal(s.chain[s.chainOffset[1]!], PERF_CONTEXT.KERNEL);
    assert.deepEqual(userCallchain(d, 0), [0x401234, 0x405678]);
    assert.deepEqual(userCallchain(d, 1), [0x401240, 0x4056a0]);
    assert.equal(d.firstSampleTimeNs, 5_000_000_123);
    assert.equal(d.lastSampleTimeNs, 5_001_000_456);
  });

  it('a cut inside a record keeps the whole records and says where', function () {
    const b = minimal();
    const full = parsePerfData(b);
    const dataOff = Number(Buffer.from(b).readBigUInt64LE(40));
    const firstSize = 8 + 8 + 8 + 8 + 8 + 8 + 3 * 8;
    const cut = parsePerfData(b.subarray(0, dataOff + firstSize + 20));
    assert.equal(cut.samples.count, 1);
    assert.equal(cut.samples.tid[0], full.samples.tid[0]);
    assert.ok(cut.truncated);
    assert.equal(cut.truncated.offset, dataOff + firstSize);
  });

  it('data size 0 in the header (perf killed): records up to the end, flagged', function () {
    const b = Buffer.from(minimal());
    const dataOff = Number(b.readBigUInt64LE(40));
    const dataSize = Number(b.readBigUInt64LE(48));
    b.writeBigUInt64LE(0n, 48); // data size never written
    b.fill(0, 72, 104); // no features written either
    const d = parsePerfData(b.subarray(0, dataOff + dataSize));
    assert.equal(d.samples.count, 2);
    assert.match(d.truncated!.reason, /killed/);
  });

  it('sample_id_all trailers: MMAP2 and COMM times; PIE mapping and fork fallback', function () {
    const st = FP; // trailer: TID (pid, tid), TIME
    const mmap2 = new B()
      .u32(10)
      .u16(2)
      .u16(8 + 8 + 8 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + 16 + 16) // header: MMAP2, user, size
      .u32(200)
      .u32(200) // pid, tid
      .u64(0x55550000_0000n)
      .u64(0x2000)
      .u64(0x1000) // addr, len, pgoff
      .u32(0xfe)
      .u32(1) // maj, min
      .u64(1234)
      .u64(5) // ino, ino_generation
      .u32(5)
      .u32(2) // prot (r-x), flags (MAP_PRIVATE)
      .str('/bin/pie', 16) // filename, padded to 8
      .u32(200)
      .u32(200)
      .u64(42); // sample_id_all: pid, tid, time
    const comm = new B()
      .u32(3)
      .u16(1 << 13)
      .u16(8 + 8 + 8 + 16) // header: COMM, misc COMM_EXEC, size
      .u32(200)
      .u32(200) // pid, tid
      .str('pie', 8) // comm
      .u32(200)
      .u32(200)
      .u64(41); // trailer
    const fork = new B()
      .u32(7)
      .u16(0)
      .u16(8 + 24 + 16) // header: FORK
      .u32(300)
      .u32(200)
      .u32(300)
      .u32(200) // pid, ppid, tid, ptid
      .u64(43) // time
      .u32(300)
      .u32(300)
      .u64(43); // trailer
    const d = parsePerfData(
      file(
        [{ a: attr({ period: 999, sampleType: st, flags: FLAG_FREQ | FLAG_SAMPLE_ID_ALL }), ids: [1] }],
        [comm, mmap2, fork, sample(300, 300, 44, 0x55550000_0123n, 1, [USER, 0x55550000_0123n])],
      ),
    );
    assert.deepEqual(d.comms, [{ pid: 200, tid: 200, comm: 'pie', exec: true, time: 41 }]);
    assert.equal(d.mmaps.length, 1);
    const m = d.mmaps[0]!;
    assert.deepEqual(
      { ...m },
      {
        pid: 200,
        tid: 200,
        start: 0x55550000_0000n,
        len: 0x2000n,
        pgoff: 0x1000n,
        filename: '/bin/pie',
        mmap2: true,
        cpumode: 2,
        isData: false,
        maj: 0xfe,
        min: 1,
        ino: 1234n,
        inoGeneration: 5n,
        prot: 5,
        flags: 2,
        time: 42,
      },
    );
    assert.deepEqual(d.tasks, [{ kind: 'fork', pid: 300, ppid: 200, tid: 300, ptid: 200, time: 43 }]);
    const idx = new MappingIndex(d);
    // pid 300 has no maps of its own: its parent's apply. file offset = addr - start + pgoff.
    assert.equal(idx.resolve(300, 0x55550000_0123)?.fileOffset, 0x1123);
    assert.equal(idx.resolve(300, 0x55550000_2000), undefined);
  });

  it('two attrs told apart by PERF_SAMPLE_IDENTIFIER', function () {
    const st = SAMPLE_IDENTIFIER | SAMPLE_IP | SAMPLE_TID;
    const s = (id: number, ip: number) =>
      new B()
        .u32(9)
        .u16(2)
        .u16(8 + 24)
        .u64(id)
        .u64(ip)
        .u32(1)
        .u32(1); // header, identifier, ip, pid/tid
    const d = parsePerfData(
      file(
        [
          { a: attr({ period: 1000, sampleType: st, flags: FLAG_EXCLUDE_KERNEL | FLAG_EXCLUDE_HV | FLAG_EXCLUDE_GUEST }), ids: [11, 12] },
          { a: attr({ config: 1, period: 2000, sampleType: st, flags: 0n /* exclude_guest clear: perf adds :HG */ }), ids: [21] },
        ],
        [s(21, 0x10), s(12, 0x20), s(11, 0x30)],
      ),
    );
    assert.deepEqual([...d.samples.attrIndex], [1, 0, 0]);
    assert.deepEqual([...d.samples.ip], [0x10, 0x20, 0x30]);
    // Fixed periods come from the attrs; names derived as perf does without EVENT_DESC
    // (checked against perf evlist on a real file stripped of it in the integration tests).
    assert.deepEqual([...d.samples.period], [2000, 1000, 1000]);
    assert.deepEqual(
      d.attrs.map((a) => a.name),
      ['cpu-clock:uH', 'task-clock:HG'],
    );
  });

  it('many small samples (fewer bytes than the columns were sized for) grow the columns', function () {
    const st = SAMPLE_IP | SAMPLE_TID;
    const recs: B[] = [];
    for (let k = 0; k < 1000; k++)
      recs.push(
        new B()
          .u32(9)
          .u16(2)
          .u16(24)
          .u64(0x400000 + k)
          .u32(k)
          .u32(k + 1),
      ); // header, ip, pid/tid
    const d = parsePerfData(file([{ a: attr({ period: 10, sampleType: st, flags: FLAG_EXCLUDE_GUEST }), ids: [1] }], recs));
    assert.equal(d.samples.count, 1000);
    assert.deepEqual(Array.from(d.samples.ip.subarray(995)), [
      0x400000 + 995,
      0x400000 + 996,
      0x400000 + 997,
      0x400000 + 998,
      0x400000 + 999,
    ]);
    assert.equal(d.samples.tid[999], 1000);
    assert.equal(d.samples.period[500], 10);
    assert.ok(Number.isNaN(d.samples.time[0]));
  });

  it('pipe mode: HEADER_ATTR then samples', function () {
    const st = SAMPLE_IP | SAMPLE_TID | SAMPLE_ID;
    const a = attr({ period: 4000, sampleType: st, flags: 0n });
    const b = new B()
      .str('PERFILE2', 8)
      .u64(16) // pipe header: magic, size 16
      .u32(64)
      .u16(0)
      .u16(8 + 64 + 8)
      .bytes(a)
      .u64(5) // PERF_RECORD_HEADER_ATTR: attr, ids [5]
      .u32(66)
      .u16(0)
      .u16(16)
      .u32(5)
      .u32(0) // HEADER_TRACING_DATA: size 5, then 5 bytes of data
      .str('trace', 8) //   outside the record, padded to 8
      .u32(9)
      .u16(2)
      .u16(8 + 24)
      .u64(0x401000)
      .u32(9)
      .u32(10)
      .u64(5) // SAMPLE: ip, pid/tid, id
      .u32(68)
      .u16(0)
      .u16(8); // FINISHED_ROUND
    const d = parsePerfData(b.done());
    assert.equal(d.pipeMode, true);
    assert.deepEqual(d.attrs[0]!.ids, [5n]);
    assert.equal(d.samples.count, 1);
    assert.equal(d.samples.tid[0], 10);
    assert.equal(d.recordCounts.get(68), 1);
    assert.equal(d.recordCounts.get(66), 1);
    assert.equal(d.truncated, undefined);
  });

  describe('PerfDataStream (pipe mode as it arrives)', function () {
    const st = SAMPLE_IP | SAMPLE_TID | SAMPLE_ID;
    const pipe = (n: number): Uint8Array => {
      const b = new B()
        .str('PERFILE2', 8)
        .u64(16) // pipe header: magic, size 16
        .u32(64)
        .u16(0)
        .u16(8 + 64 + 8)
        .bytes(attr({ period: 4000, sampleType: st, flags: 0n }))
        .u64(5); // HEADER_ATTR, ids [5]
      for (let k = 0; k < n; k++)
        b.u32(9)
          .u16(2)
          .u16(8 + 24)
          .u64(0x401000 + k)
          .u32(9)
          .u32(10 + k)
          .u64(5); // SAMPLE: ip, pid/tid, id
      return b.done();
    };

    it('one byte at a time gives what parsePerfData gives, record by record as they complete', function () {
      const bytes = pipe(20);
      const s = new PerfDataStream();
      const counts: number[] = [];
      for (let k = 0; k < bytes.length; k++) {
        s.push(bytes.subarray(k, k + 1));
        counts.push(s.sampleCount);
      }
      // The first sample is whole at 16 + 80 + 32 bytes, each next one 32 bytes later.
      assert.equal(counts[16 + 80 + 32 - 2], 0);
      assert.equal(counts[16 + 80 + 32 - 1], 1);
      assert.equal(counts[16 + 80 + 64 - 1], 2);
      const d = s.end();
      const whole = parsePerfData(bytes);
      assert.equal(d.samples.count, 20);
      assert.deepEqual(Array.from(d.samples.ip), Array.from(whole.samples.ip));
      assert.deepEqual(Array.from(d.samples.tid), Array.from(whole.samples.tid));
      assert.equal(d.truncated, undefined);
      assert.equal(s.snapshot().samples.count, 20);
    });

    it('a stream that stops inside a record keeps the whole ones and says where it was cut', function () {
      const bytes = pipe(3);
      const s = new PerfDataStream();
      s.push(bytes.subarray(0, bytes.length - 5));
      const d = s.end();
      assert.equal(d.samples.count, 2);
      assert.equal(d.truncated?.offset, 16 + 80 + 64);
      assert.match(d.truncated!.reason, /cut short.*27 byte\(s\) of a partial record dropped/);
    });

    it('errors name their offset in the whole stream, and a file-mode header is refused', function () {
      const bytes = pipe(3);
      bytes.set([0, 0, 0, 0, 0, 0, 4, 0], 16 + 80 + 32); // the second sample's header: size 4 (< 8)
      const s = new PerfDataStream();
      s.push(bytes.subarray(0, 100));
      assert.throws(
        () => s.push(bytes.subarray(100)),
        (e: unknown) => e instanceof FormatError && e.offset === 16 + 80 + 32 && /size 4/.test(e.message),
      );
      assert.throws(() => s.end(), FormatError);
      const f = new PerfDataStream();
      const fileMode = minimal();
      assert.throws(() => f.push(fileMode.subarray(0, 64)), /not a pipe-mode stream/);
      assert.throws(() => new PerfDataStream().push(new Uint8Array(32)), /no PERFILE2 magic/);
      assert.throws(() => new PerfDataStream().end(), /too short for a pipe header/);
    });
  });

  it('LOST, LOST_SAMPLES, THROTTLE, an MMAP2 with a build id, and an unknown record type', function () {
    const lost = new B().u32(2).u16(0).u16(24).u64(7).u64(5); // LOST: header, id, lost
    const lostSamples = new B().u32(13).u16(0).u16(16).u64(3); // LOST_SAMPLES: header, lost
    const throttle = new B().u32(5).u16(0).u16(32).u64(9).u64(7).u64(0); // THROTTLE: header, time, id, stream_id
    const unknown = new B().u32(99).u16(0).u16(16).u64(0xdead); // a future record type: skipped by size
    const mmap2 = new B()
      .u32(10)
      .u16(2 | (1 << 14))
      .u16(8 + 64 + 16) // header: MMAP2, user | MISC_MMAP_BUILD_ID
      .u32(5)
      .u32(5) // pid, tid
      .u64(0x400000)
      .u64(0x1000)
      .u64(0) // addr, len, pgoff
      .u8(20)
      .u8(0)
      .u16(0) // build_id_size, reserved
      .u64(0x0123456789abcdefn)
      .u64(0x0011223344556677n)
      .u32(0x8899aabb) // build_id[20]
      .u32(5)
      .u32(2) // prot, flags
      .str('/bin/go', 16); // filename
    const d = parsePerfData(
      file(
        [{ a: attr({ period: 999, sampleType: FP, flags: FLAG_FREQ | FLAG_EXCLUDE_GUEST }), ids: [7] }],
        [lost, lostSamples, throttle, unknown, mmap2],
      ),
    );
    assert.equal(d.lostSamples, 5); // LOST (5) and LOST_SAMPLES (3) count the same overflows: the larger
    assert.equal(d.lostRecords, 2);
    assert.equal(d.throttles, 1);
    assert.equal(d.recordCounts.get(99), 1);
    assert.equal(d.mmaps[0]!.buildId, 'efcdab8967452301' + '7766554433221100' + 'bbaa9988');
    assert.equal(d.mmaps[0]!.maj, undefined);
  });

  it('fields after the callchain (READ group, RAW, BRANCH_STACK, REGS_USER, STACK_USER) are walked to the record end', function () {
    const SAMPLE_READ = 0x10,
      SAMPLE_RAW = 0x400,
      SAMPLE_BRANCH_STACK = 0x800,
      SAMPLE_REGS_USER = 0x1000,
      SAMPLE_STACK_USER = 0x2000,
      SAMPLE_CPU = 0x80;
    const a = new B()
      .u32(1)
      .u32(96) // type, size: VER3 (96 bytes)
      .u64(0)
      .u64(1000) // config, sample_period
      .u64(
        SAMPLE_IP |
          SAMPLE_TID |
          SAMPLE_CPU |
          SAMPLE_READ |
          SAMPLE_CALLCHAIN |
          SAMPLE_RAW |
          SAMPLE_BRANCH_STACK |
          SAMPLE_REGS_USER |
          SAMPLE_STACK_USER,
      )
      .u64(8 | 4 | 1) // read_format: GROUP | ID | TOTAL_TIME_ENABLED
      .u64(FLAG_EXCLUDE_GUEST) // flags
      .u32(0)
      .u32(0)
      .u64(0)
      .u64(0) // wakeup, bp_type, config1, config2
      .u64(0) // branch_sample_type (no HW_INDEX)
      .u64(0b1011) // sample_regs_user: 3 registers
      .u32(64)
      .u32(0); // sample_stack_user, clockid
    const body = new B()
      .u64(0x401000)
      .u32(3)
      .u32(4) // ip; pid, tid
      .u32(1)
      .u32(0) // cpu, res
      .u64(2)
      .u64(123) // read: nr = 2, time_enabled
      .u64(10)
      .u64(100)
      .u64(20)
      .u64(101) //   {value, id} x 2
      .u64(2)
      .u64(USER)
      .u64(0x401000) // callchain: nr, entries
      .u32(4)
      .u32(0xabcd) // raw: size 4, data (u32 + data = 8 bytes)
      .u64(1)
      .u64(1)
      .u64(2)
      .u64(3) // branch stack: nr 1, {from, to, flags}
      .u64(2)
      .u64(1)
      .u64(2)
      .u64(3) // regs_user: abi 64, 3 regs
      .u64(16)
      .u64(0)
      .u64(0)
      .u64(16); // stack_user: size 16, data, dyn_size
    const rec = new B()
      .u32(9)
      .u16(2)
      .u16(8 + body.length)
      .bytes(body);
    // attr_size in the header is that of this 96-byte attr + 16.
    const bytes = Buffer.from(file([{ a: attr({ period: 1, sampleType: 0, flags: 0n }), ids: [1] }], [rec]));
    const attrsOff = Number(bytes.readBigUInt64LE(24));
    const big = Buffer.concat([bytes.subarray(0, attrsOff), Buffer.from(a.done()), bytes.subarray(attrsOff + 64)]);
    big.writeBigUInt64LE(96n + 16n, 16); // attr_size
    big.writeBigUInt64LE(96n + 16n, 32); // attrs section size
    big.writeBigUInt64LE(BigInt(Number(bytes.readBigUInt64LE(40)) + 32), 40); // data moved by 32 bytes
    const d = parsePerfData(big);
    assert.equal(d.samples.count, 1);
    assert.equal(d.samples.cpu[0], 1);
    assert.equal(d.samples.period[0], 1000);
    assert.deepEqual(userCallchain(d, 0), [0x401000]);
    // A stack dump that claims 8 bytes where the record holds 16 leaves 8 bytes unexplained:
    // a layout error, not a silent misread.
    const bad = Buffer.from(big);
    const stackSizeAt = Number(big.readBigUInt64LE(40)) + 8 + body.length - 32;
    assert.equal(bad.readBigUInt64LE(stackSizeAt), 16n);
    bad.writeBigUInt64LE(8n, stackSizeAt);
    assert.throws(
      () => parsePerfData(bad),
      (e: unknown) => e instanceof FormatError && /fields end at/.test(e.message),
    );
  });

  it('non-canonical values keep their exact u64 aside', function () {
    const wide = 0x7060504030201000n;
    const d = parsePerfData(
      file(
        [{ a: attr({ period: 999, sampleType: FP, flags: FLAG_FREQ | FLAG_EXCLUDE_GUEST }), ids: [1] }],
        [sample(1, 1, 1, wide, 1, [USER, 0x401000n, wide])],
      ),
    );
    assert.equal(ipU64(d.samples, 0), wide);
    assert.equal(chainU64(d.samples, 2), wide);
    assert.equal(chainU64(d.samples, 1), 0x401000n);
  });

  describe('runs of plain samples (perf record -g)', function () {
    const fpAttr = () => [{ a: attr({ period: 999, sampleType: FP, flags: FLAG_FREQ | FLAG_EXCLUDE_GUEST }), ids: [1] }];
    const FINISHED_ROUND = () => new B().u32(68).u16(0).u16(8);

    it('reads many samples over several batches and windows, with new chains growing its table and store', function () {
      // 30,000 samples (> 8,192 per call), ~2.4 MB (> the 1 MiB window), 12,000 distinct
      // chains of 8 entries (the table and the raw chain store grow twice), FINISHED_ROUND
      // records between, samples without a chain and with the same chain repeated.
      const recs: B[] = [];
      for (let i = 0; i < 30_000; i++) {
        const c = i % 12_000;
        const chain = i % 97 === 0 ? [] : [USER, ...Array.from({ length: 7 }, (_, k) => 0x400000n + BigInt(c * 64 + k * 8))];
        recs.push(
          sample(100 + (i % 3), 200 + (i % 7), 1_000_000 + i * 1000, 0x400000n + BigInt(c * 64), 1000 + i, chain, i % 5 === 0 ? 1 : 2),
        );
        if (i % 1000 === 999) recs.push(FINISHED_ROUND());
      }
      const b = file(fpAttr(), recs);
      const d = parsePerfData(b);
      assert.equal(d.samples.count, 30_000);
      assert.equal(d.recordCounts.get(9), 30_000);
      assert.equal(d.recordCounts.get(68), 30);
      // Shared chains: one copy per distinct chain.
      assert.equal(d.samples.chain.length, 12_000 * 8);
      const i = 12_345; // chain 345, the second time it comes
      assert.deepEqual(
        Array.from({ length: 8 }, (_, j) => chainU64(d.samples, d.samples.chainOffset[i]! + j)),
        [USER, ...Array.from({ length: 7 }, (_, k) => 0x400000n + BigInt(345 * 64 + k * 8))],
      );
      assert.equal(d.samples.chainOffset[i], d.samples.chainOffset[345]);
      assert.deepEqual(
        [d.samples.pid[i], d.samples.tid[i], d.samples.time[i], d.samples.period[i], d.samples.cpumode[i]],
        [100 + (i % 3), 200 + (i % 7), 1_000_000 + i * 1000, 1000 + i, i % 5 === 0 ? 1 : 2],
      );
    });

    it('keeps values beyond 2^53 exact, sample by sample, and goes on after them', function () {
      const wide = 0x7060504030201000n;
      const d = parsePerfData(
        file(fpAttr(), [
          sample(1, 1, 1, 0x401000n, 1, [USER, 0x401000n, 0x402000n]),
          sample(1, 1, 2, wide, 1, [USER, 0x401000n, 0x402000n]),
          sample(1, 1, 3, 0x401000n, 1, [USER, 0x401000n, wide]),
          sample(1, 1, 4, 0x401000n, 1, [USER, 0x401000n, 0x402000n]),
          sample(1, 1, 5, 0x401000n, 1, [USER, 0x401000n, wide]),
        ]),
      );
      assert.equal(ipU64(d.samples, 1), wide);
      assert.equal(chainU64(d.samples, d.samples.chainOffset[2]! + 2), wide);
      assert.equal(chainU64(d.samples, d.samples.chainOffset[4]! + 2), wide);
      assert.equal(d.samples.chainOffset[3], d.samples.chainOffset[0]);
    });

    it("two events of one layout (perf record -p adds a dummy event): each sample's event by its id, an unknown id is event 0", function () {
      // IP|TID|TIME|ID|PERIOD|CALLCHAIN, as perf record -g -p PID writes it (sample type 0x167).
      const st = FP | SAMPLE_ID;
      const s = (id: number, ip: bigint, chain: bigint[]) => {
        const body = new B().u64(ip).u32(7).u32(8).u64(1000).u64(id).u64(250_000).u64(chain.length);
        for (const c of chain) body.u64(c);
        return new B()
          .u32(9)
          .u16(2)
          .u16(8 + body.length)
          .bytes(body);
      };
      const recs: B[] = [];
      for (let i = 0; i < 100; i++) recs.push(s([11, 12, 21, 99][i % 4]!, 0x401000n + BigInt(i), [USER, 0x401000n + BigInt(i % 10)]));
      const d = parsePerfData(
        file(
          [
            { a: attr({ period: 999, sampleType: st, flags: FLAG_FREQ | FLAG_EXCLUDE_GUEST }), ids: [11, 12] },
            { a: attr({ config: 9, period: 1, sampleType: st, flags: 0n }), ids: [21] },
          ],
          recs,
        ),
      );
      assert.deepEqual([...d.samples.attrIndex.subarray(0, 8)], [0, 0, 1, 0, 0, 0, 1, 0]);
      assert.equal(d.samples.period[2], 250_000);
    });

    it('a sample that cannot be read whole is a FormatError at its offset', function () {
      const base = () => [sample(1, 1, 1, 0x401000n, 1, [USER, 0x401000n]), sample(1, 1, 2, 0x401000n, 1, [USER, 0x401000n])];
      const dataOff = (b: Uint8Array) => Number(Buffer.from(b).readBigUInt64LE(40));
      const second = 8 + 40 + 16; // the first sample's size
      const cases: [string, (b: Buffer, at: number) => void, RegExp][] = [
        ['nr beyond the record', (b, at) => b.writeBigUInt64LE(3n, at + 40), /callchain/],
        // nr * 8 wraps to the record's size in 64 bits: must not be read as 2 entries.
        ['nr that wraps', (b, at) => b.writeBigUInt64LE((1n << 61n) + 2n, at + 40), /callchain/],
        ['a record longer than its fields', (b, at) => b.writeUInt16LE(second + 8, at + 6), /fields end|runs past|record/],
      ];
      for (const [what, spoil, re] of cases) {
        const b = Buffer.from(file(fpAttr(), [...base(), sample(1, 1, 3, 0x401000n, 1, [USER, 0x401000n])]));
        spoil(b, dataOff(b) + second);
        assert.throws(
          () => parsePerfData(b),
          (e: unknown) => e instanceof FormatError && re.test(e.message) && e.offset === dataOff(b) + second,
          what,
        );
      }
    });
  });

  describe('parsePerfDataFile (read in pieces)', function () {
    it('reads each byte of the file once, the data section in pieces of the given size', function () {
      const b = minimal();
      const asked: [number, number][] = [];
      parsePerfDataFile(b.length, readerOf(b, asked), 64);
      const covered = new Uint8Array(b.length);
      for (const [pos, n] of asked) for (let k = pos; k < pos + n; k++) covered[k]!++;
      assert.deepEqual([...new Set(covered)], [1]);
      const dataOff = Number(Buffer.from(b).readBigUInt64LE(40)),
        dataSize = Number(Buffer.from(b).readBigUInt64LE(48));
      assert.ok(asked.filter(([pos]) => pos >= dataOff && pos < dataOff + dataSize).every(([, n]) => n <= 64));
    });

    it("a section inside the data section (an odd file): the whole file is read, the result is parsePerfData's", function () {
      const b = Buffer.from(minimal());
      const attrsOff = Number(b.readBigUInt64LE(24)),
        dataOff = Number(b.readBigUInt64LE(40));
      b.writeBigUInt64LE(BigInt(dataOff), attrsOff + 64); // the attr's ids now point at the first record
      const d = parsePerfData(b);
      assert.equal(d.attrs[0]!.ids.length, 1);
      assert.equal(d.attrs[0]!.ids[0], Buffer.from(b).readBigUInt64LE(dataOff));
    });

    it('a file that shrinks while it is read is a FormatError, not a hang', function () {
      const b = minimal();
      const dataOff = Number(Buffer.from(b).readBigUInt64LE(40));
      const short = readerOf(b.subarray(0, dataOff + 30));
      assert.throws(
        () => parsePerfDataFile(b.length, short, 64),
        (e: unknown) => e instanceof FormatError && /file ended/.test(e.message),
      );
    });
  });

  describe('broken input is a FormatError with the offset', function () {
    const expectFormatError = (b: Uint8Array, section: string, offset?: number, re?: RegExp) => {
      assert.throws(
        () => parsePerfData(b),
        (e: unknown) => {
          assert.ok(e instanceof FormatError, String(e));
          assert.equal(e.section, section);
          if (offset !== undefined) assert.equal(e.offset, offset);
          if (re) assert.match(e.message, re);
          return true;
        },
      );
    };
    it('wrong magic, big-endian, too short', function () {
      expectFormatError(new TextEncoder().encode('\x7fELF and more bytes here'), 'perf.data header', 0, /not a perf.data/);
      expectFormatError(new B().str('2ELIFREP', 8).u64(104).done(), 'perf.data header', 0, /big-endian/);
      expectFormatError(new Uint8Array(3), 'perf.data header', 0);
    });
    it('a record of size < 8 (would loop forever)', function () {
      const b = Buffer.from(minimal());
      const dataOff = Number(b.readBigUInt64LE(40));
      b.writeUInt16LE(0, dataOff + 6); // first record's size
      expectFormatError(b, 'perf.data records', dataOff, /size 0/);
    });
    it('a callchain longer than its record', function () {
      const b = Buffer.from(minimal());
      const dataOff = Number(b.readBigUInt64LE(40));
      b.writeBigUInt64LE(1000n, dataOff + 8 + 32); // callchain nr of the first sample
      expectFormatError(b, 'perf.data records', dataOff, /callchain/);
    });
    it('attrs section outside the file, attr size implausible', function () {
      const b = Buffer.from(minimal());
      b.writeBigUInt64LE(1n << 40n, 24); // attrs offset
      expectFormatError(b, 'perf.data header', 24);
      const c = Buffer.from(minimal());
      c.writeBigUInt64LE(8n, 16); // attr_size
      expectFormatError(c, 'perf.data header', 16);
    });
  });
});
