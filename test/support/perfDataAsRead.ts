/**
 * A PerfData with its samples written out one by one (exact values, callchains expanded), so
 * that two parses compare equal when they read the same samples, however their chain stores
 * are laid out (which chains they share).
 */
import { chainU64, ipU64, type PerfData } from '../../src/formats/perfData';

export function perfDataAsRead(d: PerfData): unknown {
  const s = d.samples;
  const rows: unknown[] = [];
  for (let i = 0; i < s.count; i++) {
    const chain: bigint[] = [];
    for (let j = 0; j < s.chainLength[i]!; j++) chain.push(chainU64(s, s.chainOffset[i]! + j));
    const ip = Number.isNaN(s.ip[i]!) ? 'none' : ipU64(s, i);
    rows.push([s.pid[i], s.tid[i], s.time[i], ip, s.period[i], s.cpu[i], s.attrIndex[i], s.cpumode[i], chain]);
  }
  const { samples: _samples, ...rest } = d;
  return { ...rest, samples: rows };
}
