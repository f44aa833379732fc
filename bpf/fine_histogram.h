// A finer histogram for percentiles: 8 sub-buckets per power of two (12.5% wide), slot
// 8 + 8*(e-3) + m for a value with highest bit e >= 3 and the next three bits m; values < 8
// have their own slots. The helper (ebpf.fine_buckets) turns slots back into [lo, hi) ranges.
// Spliced in by the helper where a program says #include "fine_histogram.h".
#define NFINE 512
static inline u32 fine_slot(u64 v) {
    if (v < 8)
        return (u32)v;
    u32 e = bpf_log2l(v) - 1;
    if (e > 63)
        e = 63;
    u32 m = (u32)((v >> (e - 3)) & 7);
    u32 s = 8 + 8 * (e - 3) + m;
    return s < NFINE ? s : NFINE - 1;
}
