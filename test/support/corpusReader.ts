/**
 * Child process for the corrupt-input corpus (test/integration/fuzz/corruptCorpus.test.ts): reads
 * one file with one reader and prints one JSON line — how it ended (ok, a clear error, or a
 * crash: any other exception), the message, and this process's peak memory — so each file's
 * memory is measured alone. Usage: node corpusReader.js READER FILE [GOOD_BINARY]
 */
import * as fs from 'node:fs';
import { parsePerfData } from '../../src/formats/perfData';
import { decodePprof } from '../../src/formats/pprof';
import { ingestPerfData } from '../../src/ingest/fromPerfData';
import { ingestPprof } from '../../src/ingest/fromPprof';
import { loadBinary, loadBinaryBytes } from '../../src/ingest/loadBinary';
import { readPerfDataFile } from '../../src/ingest/readPerfDataFile';
import { parseSession } from '../../src/model/session';
import { FormatError } from '../../src/util/byteReader';
import { UserError } from '../../src/util/userError';

export type CorpusReader = 'elf' | 'perf' | 'perf-file' | 'pprof' | 'session';

function read(reader: CorpusReader, file: string, goodBinary: string | undefined): string {
  switch (reader) {
    case 'elf': {
      const bin = loadBinaryBytes(fs.readFileSync(file), file);
      // Symbolize across the code, as an ingest would.
      const text = bin.elf.section('.text');
      let frames = 0;
      if (text)
        for (let i = 0; i < 2000; i++) frames += bin.symbolizer.symbolize(text.addr + BigInt(Math.floor((i * text.size) / 2000))).length;
      return `${frames} frames`;
    }
    case 'perf':
      return `${ingestPerfData(parsePerfData(fs.readFileSync(file)), loadBinary(goodBinary!)).totalSamples} samples`;
    case 'perf-file':
      return `${ingestPerfData(readPerfDataFile(file), loadBinary(goodBinary!)).totalSamples} samples`;
    case 'pprof':
      return `${ingestPprof(decodePprof(fs.readFileSync(file))).totalSamples} samples`;
    case 'session':
      return `${parseSession(fs.readFileSync(file, 'utf8'), file).profile.totalSamples} samples`;
  }
}

function main(): void {
  const [reader, file, goodBinary] = process.argv.slice(2) as [CorpusReader, string, string | undefined];
  let outcome: 'ok' | 'clear' | 'crash';
  let message: string;
  try {
    message = read(reader, file, goodBinary);
    outcome = 'ok';
  } catch (e) {
    outcome = e instanceof UserError || e instanceof FormatError ? 'clear' : 'crash';
    message = outcome === 'crash' ? String((e as Error)?.stack ?? e) : (e as Error).message;
  }
  process.stdout.write(`${JSON.stringify({ outcome, message, peakRssKb: process.resourceUsage().maxRSS })}\n`);
}

if (require.main === module) main();
