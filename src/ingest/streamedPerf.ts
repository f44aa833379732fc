/**
 * A perf recording ingested while it is being recorded: the helper streams perf's pipe-mode
 * output, each piece is parsed as it comes, and about once a second the samples so far are
 * taken into the ingest's state (grouped by callchain, mapped to the binary, added to the
 * stack trie and the aggregates; see PerfIngestState). When the recording ends, only its last
 * second is left to take in before the model is built.
 */
import { parsePerfData, type PerfData, PerfDataStream } from '../formats/perfData';
import type { Profile } from '../model/profile';
import { advancePerfIngest, ingestPerfData, type PerfIngestOptions, PerfIngestState } from './fromPerfData';
import type { LoadedBinary } from './loadBinary';

/** How often the samples so far are taken in while the recording runs. */
const ADVANCE_EVERY_MS = 1000;

export class StreamedPerfIngest {
  private readonly stream = new PerfDataStream();
  private readonly state = new PerfIngestState();
  /** Why the stream could not be parsed as it came (finish() then reads the file). */
  private failed: Error | undefined;
  private lastAdvance = 0;
  private scheduled: NodeJS.Immediate | undefined;
  /** Times the samples so far were taken in (for tests and benchmarks). */
  advances = 0;

  /**
   * `early`: the options of the ingests while recording (the final one takes its own; same pid).
   * `onSnapshot`: given, each take-in also builds the profile so far and hands it over (live heat).
   */
  constructor(
    private readonly bin: LoadedBinary,
    private readonly early: PerfIngestOptions = {},
    private readonly onSnapshot?: (profile: Profile) => void,
  ) {}

  /** Bytes of perf.data received so far. */
  get bytesSeen(): number {
    return this.stream.bytesSeen;
  }

  /** The next piece of perf's output, in order. Never throws: a broken stream is read again from the file at the end. */
  push(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      this.stream.push(chunk);
    } catch (e) {
      this.failed = e as Error;
      return;
    }
    const now = Date.now();
    if (now - this.lastAdvance >= ADVANCE_EVERY_MS && !this.scheduled && this.stream.sampleCount > 0) {
      this.lastAdvance = now;
      // Off the data handler: the helper's stream keeps flowing while this runs.
      this.scheduled = setImmediate(() => {
        this.scheduled = undefined;
        this.advance();
      });
    }
  }

  /** Takes the samples so far into the ingest's state (and hands the profile so far to onSnapshot). */
  advance(): void {
    if (this.failed) return;
    let profile: Profile | undefined;
    try {
      // The same incremental state either way: a snapshot only also builds the model's objects.
      if (this.onSnapshot) profile = ingestPerfData(this.stream.snapshot(), this.bin, this.early, this.state);
      else advancePerfIngest(this.stream.snapshot(), this.bin, this.early, this.state);
      this.advances++;
    } catch {
      // Not enough yet (no attr), or a problem (another binary) the final ingest reports.
      return;
    }
    if (profile && profile.totalSamples > 0) this.onSnapshot?.(profile);
  }

  /**
   * The whole recording's profile. `file` reads the complete perf.data the helper wrote: it is
   * used when the stream could not be parsed as it came or does not match the file's size, so
   * that errors name offsets in the file and nothing is lost.
   */
  finish(file: { size: number; read: () => Uint8Array }, opts: PerfIngestOptions): Profile {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    let d: PerfData | undefined;
    if (!this.failed && this.stream.bytesSeen === file.size) {
      try {
        d = this.stream.end();
      } catch {
        d = undefined;
      }
    }
    if (!d) return ingestPerfData(parsePerfData(file.read()), this.bin, opts);
    return ingestPerfData(d, this.bin, opts, this.state);
  }
}
