/**
 * The helper's stdout, decoded: lines (capped), the ready line, JSON messages, and the streamed
 * files written into a private directory and checked (size, sha256). It holds no process:
 * HelperClient runs it on the thread that started the helper (the ingest worker's, for a long
 * recording whose base64 chunks are decoded, hashed and written there: runHelper's RunElsewhere).
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { HELPER_VERSION, type HelperMessage, PROTOCOL_VERSION, type WireMessage } from './helperProtocol';
import { READY_LINE, SERVE_READY_LINE } from './launchPlan';

/** What a helper may send back, at most: one line (a result with many stacks is tens of MB), files, their sizes. */
export const LIMITS = { maxLineBytes: 256 << 20, maxFiles: 16, maxFileBytes: 16 * 2 ** 30 };
const SAFE_FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,100}$/;

/**
 * What stdout decodes to: once, the ready line (the helper runs: send it its request; `ephemeral`:
 * the one that takes a program), then the helper's messages.
 */
export type HelperOutputItem = { type: 'ready'; ephemeral: boolean } | HelperMessage;

export interface HelperOutputOptions {
  /** Where streamed files go (a private directory the caller owns), or a function making it on first use. */
  dir: string | (() => string);
  /** Where the helper runs (user@host), for the version-mismatch message. */
  where: string;
}

interface OpenFile {
  name: string;
  path: string;
  fd: number;
  size: number;
  expected: number | null;
  hash: Hash;
}

export class HelperOutputDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ready = false;
  private readonly files = new Map<string, OpenFile>();
  private fileCount = 0;

  constructor(private readonly opts: HelperOutputOptions) {}

  /**
   * The next bytes of stdout: the items of the lines they complete, in order, each decoded when
   * it is taken (lines after the one a caller stops at are not read). Throws a helper-protocol UserError.
   */
  *push(chunk: Buffer): Generator<HelperOutputItem> {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.pending.push(chunk.subarray(start, nl));
      const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      const item = this.decodeLine(line);
      if (item) yield item;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > LIMITS.maxLineBytes) throw protocolError(`a line longer than ${LIMITS.maxLineBytes} bytes`);
    }
  }

  /** stdout ended: the item of a last line without its newline. */
  *end(): Generator<HelperOutputItem> {
    const last = this.pending.length ? Buffer.concat(this.pending) : undefined;
    this.pending = [];
    const item = last && this.decodeLine(last);
    if (item) yield item;
  }

  /** Closes the files still open (a run that ended early); their partial contents stay for the caller to remove. */
  close(): void {
    for (const f of this.files.values()) {
      try {
        fs.closeSync(f.fd);
      } catch {
        /* closed */
      }
    }
    this.files.clear();
  }

  /** The line's item; undefined for a line before the ready line, or a file's start. */
  private decodeLine(raw: Buffer): HelperOutputItem | undefined {
    if (!this.ready) {
      // Anything a login shell prints before the helper runs is not ours: skip it.
      const line = raw.toString('utf8').trim();
      if (line === SERVE_READY_LINE || line === READY_LINE) {
        this.ready = true;
        return { type: 'ready', ephemeral: line === READY_LINE };
      }
      return undefined;
    }
    let msg: WireMessage;
    try {
      msg = JSON.parse(raw.toString('utf8')) as WireMessage;
    } catch {
      throw protocolError(`a line that is not JSON: ${raw.toString('utf8').slice(0, 200)}`);
    }
    switch (msg.type) {
      case 'hello':
        if (msg.protocol !== PROTOCOL_VERSION || msg.helper !== HELPER_VERSION) {
          throw new UserError(
            `the helper on ${this.opts.where} is version ${msg.helper} (protocol ${msg.protocol}); this go-perf-lens needs ${HELPER_VERSION} (protocol ${PROTOCOL_VERSION})`,
            'upgrade it: sudo go-perf-lens install-helper (with this go-perf-lens)',
            'version-mismatch',
          );
        }
        return msg;
      case 'file': {
        if (!SAFE_FILE.test(msg.name) || this.files.has(msg.name)) throw protocolError(`a bad file name ${JSON.stringify(msg.name)}`);
        if (++this.fileCount > LIMITS.maxFiles) throw protocolError(`more than ${LIMITS.maxFiles} files`);
        if (msg.size !== null && !(Number.isSafeInteger(msg.size) && msg.size >= 0))
          throw protocolError(`a bad size for ${msg.name}: ${JSON.stringify(msg.size)}`);
        const dir = typeof this.opts.dir === 'string' ? this.opts.dir : this.opts.dir();
        const p = path.join(dir, msg.name);
        const fd = fs.openSync(p, 'w', 0o600);
        this.files.set(msg.name, { name: msg.name, path: p, fd, size: 0, expected: msg.size, hash: createHash('sha256') });
        return undefined;
      }
      case 'chunk': {
        const f = this.files.get(msg.name);
        if (!f) throw protocolError(`a chunk of an unopened file ${JSON.stringify(msg.name)}`);
        const b = Buffer.from(msg.data, 'base64');
        if (f.size + b.length > LIMITS.maxFileBytes) throw protocolError(`${f.name} larger than ${LIMITS.maxFileBytes} bytes`);
        writeAll(f.fd, b);
        f.hash.update(b);
        f.size += b.length;
        return { type: 'received-chunk', name: f.name, data: b };
      }
      case 'file-end': {
        const f = this.files.get(msg.name);
        if (!f) throw protocolError(`the end of an unopened file ${JSON.stringify(msg.name)}`);
        fs.closeSync(f.fd);
        this.files.delete(msg.name);
        const digest = f.hash.digest('hex');
        if (f.size !== msg.size || digest !== msg.sha256 || (f.expected !== null && f.expected !== f.size)) {
          throw protocolError(
            `${msg.name} arrived damaged (${f.size} of ${f.expected ?? msg.size} bytes, sha256 ${digest} ≠ ${msg.sha256})`,
          );
        }
        return { type: 'received-file', name: f.name, path: f.path, size: f.size, sha256: digest };
      }
      default:
        return msg;
    }
  }
}

/** Decodes stdout on this thread, as it comes. */
export async function* decodeHere(stdout: AsyncIterable<Buffer>, opts: HelperOutputOptions): AsyncGenerator<HelperOutputItem> {
  const decoder = new HelperOutputDecoder(opts);
  try {
    for await (const chunk of stdout) yield* decoder.push(chunk);
    yield* decoder.end();
  } finally {
    decoder.close();
  }
}

/** fs.writeSync may write less than asked (large buffers): loop until all of it is written. */
function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length;) off += fs.writeSync(fd, b, off, b.length - off);
}

export function protocolError(what: string): UserError {
  return new UserError(`the helper sent ${what}`, 'this is a bug in go-perf-lens: please report it', 'helper-protocol');
}
