// go_alloc_heat: the allocations the Go runtime samples for its memory profile, with their
// call stacks. runtime.mallocgc calls runtime.profilealloc → runtime.mProf_Malloc only for the
// allocations it samples (about one per MemProfileRate bytes), so a uprobe there costs little
// and sees exactly the samples the runtime's own profile records. The probe sits after the
// prologue's stack check (a probe at the first instruction would count again each call that
// grows its stack), where the arguments are still in their registers: size is in RBX
// (mProf_Malloc(p, size), Go ≤ 1.22) or RCX (mProf_Malloc(mp, p, size), Go 1.23).
//
// Keyed by (user stack, size), as the runtime keys its buckets, so the TypeScript side can
// unsample each key the way pprof does. Compiled with -DTGID=<pid> -DSIZE_REG=bx|cx
// -DSTACK_ENTRIES=<n> -DCOUNT_ENTRIES=<n>.
#include <uapi/linux/ptrace.h>

struct key_t {
    u64 size;
    s32 ustack;  // user stack id, or the negative errno of get_stackid
    u32 pad;
};

// stats slots (per CPU, summed by the helper)
#define ST_SAMPLES 0
#define ST_STACK_ERR 1
#define ST_STACK_COLLISION 2
#define ST_HASH_FULL 3
#define NSTATS 4

BPF_STACK_TRACE(stacks, STACK_ENTRIES);
BPF_HASH(counts, struct key_t, u64, COUNT_ENTRIES);
BPF_PERCPU_ARRAY(stats, u64, NSTATS);

static __always_inline void bump(u32 slot) {
    u64 *v = stats.lookup(&slot);
    if (v)
        (*v)++;
}

int on_mprof_malloc(struct pt_regs *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) != TGID)
        return 0;
    bump(ST_SAMPLES);
    struct key_t key = {};
    key.size = ctx->SIZE_REG;
    key.ustack = stacks.get_stackid(ctx, BPF_F_USER_STACK);
    if (key.ustack < 0)
        bump(key.ustack == -17 ? ST_STACK_COLLISION : ST_STACK_ERR);  // -EEXIST: bucket taken
    u64 zero = 0;
    u64 *c = counts.lookup_or_try_init(&key, &zero);
    if (c)
        __sync_fetch_and_add(c, 1);
    else
        bump(ST_HASH_FULL);
    return 0;
}
