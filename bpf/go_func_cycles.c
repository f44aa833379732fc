// go_func_cycles: per-call latency of Go functions without uretprobes.
//
// The helper attaches `entry_N` after function N's stack check (not at its first instruction:
// after runtime.morestack grows a stack, Go re-runs the function from its entry, which would
// count one call twice) and `ret_N` on every RET instruction of function N. At both places SP
// points at the call's return address, so an entry and a RET belong to the same call exactly
// when they share the goroutine (the g pointer, in R14 on amd64 since Go 1.17 — never the
// thread: goroutines migrate) and the frame's distance from the top of the goroutine's stack
// (g.stack.hi − SP: Go copies a growing stack with its frames at the same distance from the
// top). Pairing by that key, not by order, makes a wrong pair impossible: a RET whose entry was
// not seen (the call began before the probes attached) is counted apart and never timed, and
// an entry whose RET is not seen (still running at the end, panic, Goexit) stays unmatched.
// Counters are updated with atomic adds: two CPUs hit the same slot.
//
// Compiled with -DTGID=<pid> -DNFUNC=<n>; the helper appends one entry_N/ret_N pair per function.
#include <uapi/linux/ptrace.h>

#define NSLOTS 64
#define G_STACK_HI 8   // offsetof(runtime.g, stack.hi): g begins with stack{lo, hi uintptr}

struct callkey {
    u64 g;
    u64 depth;   // g.stack.hi − SP at the entry (= at the RET)
    u32 fn;
    u32 pad;
};

BPF_HASH(open_calls, struct callkey, u64, 65536);   // entry time of calls in flight
BPF_ARRAY(calls, u64, NFUNC);       // entries seen
BPF_ARRAY(matched, u64, NFUNC);     // RETs paired with their own entry (in the histogram)
BPF_ARRAY(sum_ns, u64, NFUNC);
BPF_ARRAY(hist, u64, NFUNC * NSLOTS);
BPF_ARRAY(orphans, u64, NFUNC);     // RETs of calls whose entry was not seen: not timed, not calls

#include "fine_histogram.h"
BPF_ARRAY(fine, u64, NFUNC * NFINE);

static inline void add(u64 *p, u64 v) {
    if (p)
        __sync_fetch_and_add(p, v);
}

/** The call's key; false when g.stack.hi cannot be read. */
static inline bool call_key(struct pt_regs *ctx, u32 fn, struct callkey *k) {
    u64 hi = 0;
    if (bpf_probe_read_user(&hi, sizeof(hi), (void *)(ctx->r14 + G_STACK_HI)) != 0)
        return false;
    k->g = ctx->r14;
    k->depth = hi - ctx->sp;
    k->fn = fn;
    k->pad = 0;
    return true;
}

static inline int on_entry(struct pt_regs *ctx, u32 fn) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u64 now = bpf_ktime_get_ns();
    add(calls.lookup(&fn), 1);
    struct callkey k = {};
    if (!call_key(ctx, fn, &k))
        return 0;   // counted, then unmatched
    // An entry left at this key was of a call that never returned (its goroutine ended in a
    // panic or Goexit): this call replaces it. A full map leaves this call unmatched.
    open_calls.update(&k, &now);
    return 0;
}

static inline int on_ret(struct pt_regs *ctx, u32 fn) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u64 now = bpf_ktime_get_ns();
    struct callkey k = {};
    u64 *t0 = 0;
    if (call_key(ctx, fn, &k))
        t0 = open_calls.lookup(&k);
    if (!t0) {
        add(orphans.lookup(&fn), 1);
        return 0;
    }
    u64 delta = now - *t0;
    open_calls.delete(&k);
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
