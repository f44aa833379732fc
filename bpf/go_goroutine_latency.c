// go_goroutine_latency: how long runnable goroutines wait before they run.
//
// One uprobe, on runtime.casgstatus(gp, oldval, newval) — Go's register ABI puts gp in RAX,
// oldval in RBX and newval in RCX. Every change of a goroutine's status to _Grunnable
// (newproc1: _Gdead→, ready/injectglist: _Gwaiting→, goschedImpl and preemption: _Grunning→,
// exitsyscall0: _Gsyscall→) and the one change to _Grunning that starts it (execute:
// _Grunnable→_Grunning) goes through this one function, so a single probe sees both ends of
// every wait exactly, with no guessing about which of ready/newproc1/globrunqput/... ran.
// casgstatus is NOSPLIT (no stack check), so probing its first instruction counts each call
// once. A wait is keyed by gp (the runtime.g's address: fixed for a goroutine's life, and the
// goid is not yet set when newproc1 makes a new goroutine runnable) and charged to the goid read
// from gp at GOID_OFFSET (runtime.g.goid, from DWARF) when it starts running.
//
// For the worst waits it also keeps where each goroutine was created (runtime.g.gopc, the PC of
// its `go` statement) and the function it runs (runtime.g.startpc), read from the same gp, and
// the creating goroutine's call stack: newproc1 makes each new goroutine leave _Gdead through
// casgstatus, on the system stack of the goroutine running the `go` statement; systemstack keeps
// BP, so the frame-pointer walk goes from there back into that goroutine's own frames.
// Goroutines created before the probe was attached have no creation stack.
//
// Compiled with -DTGID=<pid> -DGOID_OFFSET=<bytes>, and -DGOPC_OFFSET= -DSTARTPC_OFFSET= (bytes;
// 0 = not known, not read).
#include <uapi/linux/ptrace.h>

#ifndef GOPC_OFFSET
#define GOPC_OFFSET 0
#endif
#ifndef STARTPC_OFFSET
#define STARTPC_OFFSET 0
#endif

struct origin_t {
    u64 gopc;
    u64 startpc;
    s64 stackid;   // creation stack in `stacks`, or -1 (created before attaching, or not walkable)
};

#define G_RUNNABLE 1
#define G_RUNNING 2
#define G_DEAD 6
#define NSLOTS 64

BPF_HASH(runnable_since, u64, u64, 65536);   // gp -> ns when it became runnable
BPF_HASH(worst, u64, u64, 10240);            // goid -> longest wait seen
BPF_HASH(origin, u64, struct origin_t, 10240); // goid -> creation PC, start PC, creation stack
BPF_HASH(created, u64, s64, 65536);          // gp -> creation stack id of the goroutine it holds
BPF_STACK_TRACE(stacks, 4096);
BPF_ARRAY(stats, u64, 2);                    // [0] waits, [1] sum of waits (ns)
BPF_ARRAY(hist, u64, NSLOTS);

#include "fine_histogram.h"
BPF_ARRAY(fine, u64, NFINE);

static inline void add(u64 *p, u64 v) {
    if (p)
        __sync_fetch_and_add(p, v);
}

static inline void keep_origin(u64 gp, u64 goid) {
    if (GOPC_OFFSET == 0 || origin.lookup(&goid))
        return;
    struct origin_t o = {.stackid = -1};
    s64 *sid = created.lookup(&gp);
    if (sid)
        o.stackid = *sid;
    bpf_probe_read_user(&o.gopc, sizeof(o.gopc), (void *)(gp + GOPC_OFFSET));
    if (STARTPC_OFFSET != 0)
        bpf_probe_read_user(&o.startpc, sizeof(o.startpc), (void *)(gp + STARTPC_OFFSET));
    origin.update(&goid, &o);
}

int on_casgstatus(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    u32 oldval = (u32)ctx->bx;
    u32 newval = (u32)ctx->cx;
    u64 gp = ctx->ax;
    if (GOPC_OFFSET != 0 && oldval == G_DEAD) {
        // A g being (re)used for a new goroutine: remember who created it, replacing whatever
        // the g's previous goroutine left.
        s64 sid = stacks.get_stackid(ctx, BPF_F_USER_STACK);
        created.update(&gp, &sid);
    }
    if (newval != G_RUNNABLE && !(newval == G_RUNNING && oldval == G_RUNNABLE))
        return 0;
    u64 goid = 0;
    u64 now = bpf_ktime_get_ns();
    if (newval == G_RUNNABLE) {
        runnable_since.update(&gp, &now);
        return 0;
    }
    u64 *t = runnable_since.lookup(&gp);
    if (!t)
        return 0;   // became runnable before the probe was attached
    u64 delta = now - *t;
    runnable_since.delete(&gp);
    if (bpf_probe_read_user(&goid, sizeof(goid), (void *)(gp + GOID_OFFSET)) != 0)
        return 0;
    u32 i0 = 0, i1 = 1;
    add(stats.lookup(&i0), 1);
    add(stats.lookup(&i1), delta);
    u32 slot = bpf_log2l(delta);
    if (slot >= NSLOTS)
        slot = NSLOTS - 1;
    add(hist.lookup(&slot), 1);
    u32 fslot = fine_slot(delta);
    add(fine.lookup(&fslot), 1);
    u64 *w = worst.lookup(&goid);
    if (!w) {
        worst.update(&goid, &delta);
        keep_origin(gp, goid);
    } else if (*w < delta)
        *w = delta;
    return 0;
}
