// go_block_heat: where goroutines park and for how long. A uprobe on runtime.gopark (after its
// stack check) keeps, per goroutine (the g pointer in R14, Go ≥ 1.17 on amd64), when it parked,
// why (gopark's waitReason argument, in CL for Go 1.19–1.23) and its frame-pointer stack; a
// uprobe on runtime.execute(gp, ...) (gp in RAX), where every goroutine starts running again,
// closes the wait: time and count are added to (stack, reason, log2 slot of the wait's length)
// with atomic adds, so each line's wait-time histogram can be drawn. Goroutines still parked
// when the recording ends are counted by the helper, not folded in.
//
// Compiled with -DTGID=<pid> -DSTACK_ENTRIES=<n> -DCOUNT_ENTRIES=<n> -DPARKED_ENTRIES=<n>.
#include <uapi/linux/ptrace.h>

struct park_t {
    u64 ts;
    s32 ustack;
    u32 reason;
};

struct key_t {
    s32 ustack;  // user stack id at gopark, or the negative errno of get_stackid
    u32 reason;
    u32 slot;  // bpf_log2l(ns): the wait lasted [2^(slot-1), 2^slot) ns (slot 0: 0 ns)
};

struct val_t {
    u64 ns;
    u64 waits;
};

// stats slots (per CPU, summed by the helper)
#define ST_PARKS 0
#define ST_EXECUTES 1
#define ST_PAIRED 2
#define ST_PARKED_FULL 3
#define ST_HASH_FULL 4
#define ST_STACK_ERR 5
#define ST_STACK_COLLISION 6
#define NSTATS 7

BPF_STACK_TRACE(stacks, STACK_ENTRIES);
BPF_HASH(parked, u64, struct park_t, PARKED_ENTRIES);
BPF_HASH(blocked, struct key_t, struct val_t, COUNT_ENTRIES);
BPF_PERCPU_ARRAY(stats, u64, NSTATS);

static __always_inline void bump(u32 slot) {
    u64 *v = stats.lookup(&slot);
    if (v)
        (*v)++;
}

int on_gopark(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    bump(ST_PARKS);
    u64 g = ctx->r14;
    struct park_t p = {};
    p.ts = bpf_ktime_get_ns();
    p.reason = ctx->cx & 0xff;
    p.ustack = stacks.get_stackid(ctx, BPF_F_USER_STACK);
    if (p.ustack < 0)
        bump(p.ustack == -17 ? ST_STACK_COLLISION : ST_STACK_ERR);
    if (parked.update(&g, &p) != 0)
        bump(ST_PARKED_FULL);
    return 0;
}

int on_execute(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    bump(ST_EXECUTES);
    u64 g = ctx->ax;
    struct park_t *p = parked.lookup(&g);
    if (!p)
        return 0;  // a goroutine that was preempted, new, or parked before the recording
    u64 now = bpf_ktime_get_ns();
    struct key_t key = {};
    key.ustack = p->ustack;
    key.reason = p->reason;
    u64 ns = now > p->ts ? now - p->ts : 0;
    key.slot = bpf_log2l(ns);
    parked.delete(&g);
    bump(ST_PAIRED);
    struct val_t zero = {};
    struct val_t *v = blocked.lookup_or_try_init(&key, &zero);
    if (v) {
        __sync_fetch_and_add(&v->ns, ns);
        __sync_fetch_and_add(&v->waits, 1);
    } else {
        bump(ST_HASH_FULL);
    }
    return 0;
}
