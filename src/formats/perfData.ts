/**
 * perf.data, read directly (file mode "PERFILE2" and pipe mode `perf record -o -`).
 *
 * Output is columnar: one typed array per sample field, so ingest of 100k+ samples with
 * callchains allocates a handful of arrays, not 100k objects.
 *
 * Addresses (`ip`, `chain`) are stored as the SIGNED 64-bit value, as a double. That is exact
 * for every canonical x86-64/arm64 address: user addresses are < 2^47 (positive), kernel
 * addresses are >= 0xffff800000000000 (negative, > -2^47), and the PERF_CONTEXT_* callchain
 * markers become small negatives (-128 kernel, -512 user, ...), exactly as perf's own
 * `(s64)` view of them. Only non-canonical values beyond ±2^53 lose precision.
 * The exact values of those few are kept aside (chainWide/ipWide); `chainU64`/`ipU64` give the
 * unsigned bigint perf prints, `toU64(x)` converts any exact double.
 *
 * Reference: tools/perf/Documentation/perf.data-file-format.txt, include/uapi/linux/perf_event.h.
 */
export { parsePerfData, parsePerfDataFile, PerfDataStream, type FileReader } from './perfDataParser';
export { UserStacks, type UserStackDump, userReg, X86_REG } from './perfUserStacks';
export {
  userCallchain,
  userCallchainInto,
  resolveMapping,
  MappingIndex,
  toU64,
  chainU64,
  ipU64,
  isContextMarker,
  type ResolvedAddress,
} from './perfDataHelpers';
export * from './perfDataTypes';
