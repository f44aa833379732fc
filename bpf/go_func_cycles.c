// go_func_cycles: per-call latency of Go functions without uretprobes.
//
// The helper attaches `entry_N` after function N's stack check (not at its first instruction:
// after runtime.morestack grows a stack, Go re-runs the function from its entry, which would
// count one call twice) and `ret_N` on every RET instruction of function N. Entries and RETs
// are paired per goroutine — the g pointer is in R14 on amd64 since Go 1.17 — never per thread,
// because goroutines migrate between threads. A goroutine's open calls form a small stack
// (recursion). Counters are updated with atomic adds: two CPUs hit the same slot.
//
// Compiled with -DTGID=<pid> -DNFUNC=<n>; the helper appends one entry_N/ret_N pair per function.
#include <uapi/linux/ptrace.h>

#define MAXDEPTH 64
#define NSLOTS 64

struct gkey {
    u64 g;
    u32 fn;
    u32 pad;
};

struct gstack {
    u32 depth;      // open calls, including any beyond MAXDEPTH
    u32 pad;
    u64 ts[MAXDEPTH];
};

BPF_HASH(open_calls, struct gkey, struct gstack, 16384);
BPF_PERCPU_ARRAY(zeros, struct gstack, 1);  // an all-zero gstack: too big for the 512-byte BPF stack
BPF_ARRAY(calls, u64, NFUNC);       // entries seen
BPF_ARRAY(matched, u64, NFUNC);     // RETs paired with an entry (in the histogram)
BPF_ARRAY(sum_ns, u64, NFUNC);
BPF_ARRAY(hist, u64, NFUNC * NSLOTS);
BPF_ARRAY(deep, u64, NFUNC);        // returns of calls nested deeper than MAXDEPTH (not timed)

#include "fine_histogram.h"
BPF_ARRAY(fine, u64, NFUNC * NFINE);

static inline void add(u64 *p, u64 v) {
    if (p)
        __sync_fetch_and_add(p, v);
}

static inline int on_entry(struct pt_regs *ctx, u32 fn) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u64 now = bpf_ktime_get_ns();
    struct gkey k = {.g = ctx->r14, .fn = fn};
    add(calls.lookup(&fn), 1);
    struct gstack *s = open_calls.lookup(&k);
    if (!s) {
        u32 z = 0;
        struct gstack *zero = zeros.lookup(&z);
        if (!zero)
            return 0;
        s = open_calls.lookup_or_try_init(&k, zero);
        if (!s)
            return 0;   // map full: counted, then unmatched
    }
    u32 d = s->depth;
    if (d < MAXDEPTH)
        s->ts[d & (MAXDEPTH - 1)] = now;
    s->depth = d + 1;
    return 0;
}

static inline int on_ret(struct pt_regs *ctx, u32 fn) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u64 now = bpf_ktime_get_ns();
    struct gkey k = {.g = ctx->r14, .fn = fn};
    struct gstack *s = open_calls.lookup(&k);
    if (!s || s->depth == 0)
        return 0;
    u32 d = s->depth - 1;
    s->depth = d;
    if (d >= MAXDEPTH) {
        add(deep.lookup(&fn), 1);
        return 0;
    }
    // The entry stays when the depth is back to 0: goroutines (and their g) are reused, and
    // an insert plus a delete on every call would double the cost of a probe hit.
    u64 delta = now - s->ts[d & (MAXDEPTH - 1)];
    add(matched.lookup(&fn), 1);
    add(sum_ns.lookup(&fn), delta);
    u32 slot = bpf_log2l(delta);
    if (slot >= NSLOTS)
        slot = NSLOTS - 1;
    u32 idx = fn * NSLOTS + slot;
    add(hist.lookup(&idx), 1);
    u32 fidx = fn * NFINE + fine_slot(delta);
    add(fine.lookup(&fidx), 1);
    return 0;
}
