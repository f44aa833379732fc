/**
 * A perf.data file from disk, parsed as it is read (parsePerfDataFile): the data section goes
 * through one reused buffer instead of a copy of the whole file in memory.
 */
import * as fs from 'node:fs';
import { parsePerfDataFile, type PerfData } from '../formats/perfData';

export function readPerfDataFile(file: string): PerfData {
  const fd = fs.openSync(file, 'r');
  try {
    return parsePerfDataFile(fs.fstatSync(fd).size, (pos, buf, at, len) => fs.readSync(fd, buf, at, len, pos));
  } finally {
    fs.closeSync(fd);
  }
}
