/**
 * The one bounds-checked byte reader every decoder in src/formats uses.
 * Every failure is a FormatError naming the section and the absolute offset, so a user
 * (and a test) learns where a file is broken, never just "RangeError".
 */

export class FormatError extends Error {
  /** The message without the section and offset (to re-throw at another offset). */
  readonly detail: string;
  constructor(
    message: string,
    /** The section or structure being read, e.g. ".debug_info" or "perf.data header". */
    readonly section: string,
    /** Byte offset inside that section (or file) where decoding failed. */
    readonly offset: number,
  ) {
    super(`${section} at offset 0x${offset.toString(16)}: ${message}`);
    this.detail = message;
    this.name = 'FormatError';
  }
}

const TWO_POW_32 = 0x1_0000_0000;

export class ByteReader {
  private readonly view: DataView;
  /** Current position, relative to the start of `bytes`. */
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly section: string,
    /** Offset of bytes[0] inside the named section, for error messages. */
    readonly baseOffset = 0,
    readonly littleEndian = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  get length(): number {
    return this.bytes.length;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  get eof(): boolean {
    return this.pos >= this.bytes.length;
  }

  fail(message: string, at = this.pos): never {
    throw new FormatError(message, this.section, this.baseOffset + at);
  }

  private need(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.bytes.length) {
      this.fail(`truncated: need ${n} byte(s), ${Math.max(0, this.bytes.length - p)} left`);
    }
    this.pos = p + n;
    return p;
  }

  seek(pos: number): this {
    if (pos < 0 || pos > this.bytes.length) this.fail(`seek to 0x${pos.toString(16)} outside ${this.bytes.length} bytes`);
    this.pos = pos;
    return this;
  }
  skip(n: number): this {
    this.need(n);
    return this;
  }

  u8(): number {
    return this.bytes[this.need(1)]!;
  }
  i8(): number {
    return this.view.getInt8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2), this.littleEndian);
  }
  i16(): number {
    return this.view.getInt16(this.need(2), this.littleEndian);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), this.littleEndian);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), this.littleEndian);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.need(8), this.littleEndian);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.need(8), this.littleEndian);
  }
  /** A 64-bit value that must fit in a JS number (sizes, offsets). */
  u64n(): number {
    const at = this.pos;
    const p = this.need(8);
    const lo = this.view.getUint32(p + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(p + (this.littleEndian ? 4 : 0), this.littleEndian);
    if (hi > 0x1fffff) this.fail('64-bit value too large for this field', at);
    return hi * TWO_POW_32 + lo;
  }
  /** Unsigned integer of `size` bytes (1, 2, 4 or 8) as a number. */
  uN(size: number): number {
    switch (size) {
      case 1:
        return this.u8();
      case 2:
        return this.u16();
      case 4:
        return this.u32();
      case 8:
        return this.u64n();
      default:
        return this.fail(`unsupported integer size ${size}`);
    }
  }

  /** Unsigned LEB128 as a number; throws past 2^53 rather than losing precision silently. */
  uleb128(): number {
    const start = this.pos;
    const b = this.bytes;
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= b.length) this.fail('truncated LEB128', start);
      const byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 56) {
        // Allow redundant zero padding bytes (legal), reject real overflow.
        while (this.pos < b.length && b[this.pos] === 0x80) this.pos++;
        if (this.pos < b.length && b[this.pos] === 0x00) {
          this.pos++;
          break;
        }
        this.fail('LEB128 value too large', start);
      }
    }
    if (result > Number.MAX_SAFE_INTEGER) this.fail('LEB128 value too large', start);
    return result;
  }

  /** Signed LEB128 as a number. */
  sleb128(): number {
    const start = this.pos;
    const b = this.bytes;
    let result = 0;
    let mul = 1;
    let byte: number;
    for (;;) {
      if (this.pos >= b.length) this.fail('truncated LEB128', start);
      byte = b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) break;
      if (mul > 2 ** 63) this.fail('LEB128 value too large', start);
    }
    if (byte & 0x40) result -= mul;
    if (!Number.isSafeInteger(result)) this.fail('LEB128 value too large', start);
    return result;
  }

  /** Unsigned LEB128 as a bigint (addresses in DWARF expressions). */
  uleb128big(): bigint {
    const start = this.pos;
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('truncated LEB128', start);
      const byte = this.bytes[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) return result;
      if (shift > 70n) this.fail('LEB128 value too large', start);
    }
  }

  /** NUL-terminated string (UTF-8). */
  cstring(): string {
    const b = this.bytes;
    const start = this.pos;
    const end = b.indexOf(0, start);
    if (end < 0) this.fail('unterminated string', start);
    this.pos = end + 1;
    return decodeUtf8(b, start, end);
  }

  bytesN(n: number): Uint8Array {
    const p = this.need(n);
    return this.bytes.subarray(p, p + n);
  }

  /** A reader over [start, start+len) of this one, reporting offsets in the same section. */
  sub(start: number, len: number, section = this.section): ByteReader {
    if (start < 0 || len < 0 || start + len > this.bytes.length) {
      this.fail(`range 0x${start.toString(16)}+0x${len.toString(16)} outside ${this.bytes.length} bytes`, start);
    }
    return new ByteReader(this.bytes.subarray(start, start + len), section, this.baseOffset + start, this.littleEndian);
  }
}

const utf8 = new TextDecoder('utf-8');
/** Node Buffer views of the byte arrays strings are decoded from (one per array, made once). */
const nodeViews = typeof Buffer === 'undefined' ? undefined : new WeakMap<Uint8Array, Buffer>();

/**
 * Decodes bytes [start, end) (invalid sequences become U+FFFD, as TextDecoder does). In Node
 * through a Buffer view (C++ decoding, ~10x faster a call than TextDecoder or fromCharCode on a
 * subarray for the short names symbol tables are made of); elsewhere (webviews) TextDecoder.
 */
export function decodeUtf8(b: Uint8Array, start: number, end: number): string {
  if (nodeViews) {
    let v = nodeViews.get(b);
    if (v === undefined) {
      v = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      nodeViews.set(b, v);
    }
    return v.toString('utf8', start, end);
  }
  return utf8.decode(b.subarray(start, end));
}

/** Reads a NUL-terminated string at an offset of a string table, with bounds checks. */
export function cstringAt(table: Uint8Array, offset: number, section: string): string {
  if (offset < 0 || offset >= table.length) throw new FormatError(`string offset 0x${offset.toString(16)} outside table`, section, offset);
  const end = table.indexOf(0, offset);
  if (end < 0) throw new FormatError('unterminated string', section, offset);
  return decodeUtf8(table, offset, end);
}
