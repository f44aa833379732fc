// go_cpu_profile: a CPU sampler for one Go process that keeps, besides the frame-pointer user
// stack (the same walk perf does), the 8-byte word at the user SP. A sample taken where the
// leaf function has no frame of its own (a frameless leaf, or any function in its prologue or
// epilogue) has a stack that skips the leaf's caller, because the walk starts from a BP that
// still belongs to that caller; there, the word at SP is the return address into the caller,
// and the TypeScript side puts the caller back (it knows, from the binary's pcsp table, where
// the SP delta is 0). The word is kept only when it falls in the binary's text, so the map's
// keys stay few.
//
// Attached to a cpu-clock (or cycles) perf event on every CPU; filtered by tgid here.
// Compiled with -DTGID=<pid> -DTEXT_LO=<addr> -DTEXT_HI=<addr> [-DWANT_KERNEL=1]
// -DSTACK_ENTRIES=<n> -DCOUNT_ENTRIES=<n>.
#include <uapi/linux/ptrace.h>
#include <uapi/linux/bpf_perf_event.h>
#include <linux/sched.h>

struct key_t {
    u64 ip;       // the user ip, only when the user stack could not be taken (else 0)
    u64 spword;   // the word at the user SP when it is a text address of the binary, else 0
    s32 ustack;   // user stack id, or the negative errno of get_stackid
    s32 kstack;   // kernel stack id (WANT_KERNEL and a kernel-mode sample), else -1
};

// stats slots (per CPU, summed by the helper)
#define ST_SAMPLES 0
#define ST_USTACK_ERR 1
#define ST_KSTACK_ERR 2
#define ST_HASH_FULL 3
#define ST_SP_UNREADABLE 4
#define ST_KERNEL_MODE 5
#define ST_NO_USER_REGS 6
#define ST_USTACK_COLLISION 7
#define ST_PERIOD_SUM 8
#define NSTATS 9

BPF_STACK_TRACE(stacks, STACK_ENTRIES);
BPF_HASH(counts, struct key_t, u64, COUNT_ENTRIES);
BPF_PERCPU_ARRAY(stats, u64, NSTATS);

static __always_inline void bump(u32 slot) {
    u64 *v = stats.lookup(&slot);
    if (v)
        (*v)++;
}

int on_sample(struct bpf_perf_event_data *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    if ((id >> 32) != TGID)
        return 0;
    bump(ST_SAMPLES);
    u32 ps = ST_PERIOD_SUM;
    u64 *period = stats.lookup(&ps);
    if (period)
        *period += ctx->sample_period;  // ns for cpu-clock, cycles for cycles: the model's unit

    // The user registers: the sampled ones in user mode; in kernel mode (a syscall, a page
    // fault) the ones saved at kernel entry, which is also where get_stackid starts its walk.
    u64 usp = 0, uip = 0;
    int kernel_mode = (ctx->regs.cs & 3) != 3;
    if (!kernel_mode) {
        usp = ctx->regs.sp;
        uip = ctx->regs.ip;
    } else {
        bump(ST_KERNEL_MODE);
        struct task_struct *t = bpf_get_current_task_btf();
        struct pt_regs *ur = (struct pt_regs *)bpf_task_pt_regs(t);
        if (ur) {
            bpf_probe_read_kernel(&usp, sizeof(usp), &ur->sp);
            bpf_probe_read_kernel(&uip, sizeof(uip), &ur->ip);
        } else {
            bump(ST_NO_USER_REGS);
        }
    }

    struct key_t key = {};
    key.ustack = stacks.get_stackid(ctx, BPF_F_USER_STACK);
    if (key.ustack < 0) {
        bump(key.ustack == -17 ? ST_USTACK_COLLISION : ST_USTACK_ERR);  // -EEXIST: bucket taken
        key.ip = uip;
    }
    key.kstack = -1;
#ifdef WANT_KERNEL
    if (kernel_mode) {
        key.kstack = stacks.get_stackid(ctx, 0);
        if (key.kstack < 0)
            bump(ST_KSTACK_ERR);
    }
#endif
    if (usp) {
        u64 w = 0;
        if (bpf_probe_read_user(&w, sizeof(w), (void *)usp) == 0) {
            if (w >= TEXT_LO && w < TEXT_HI)
                key.spword = w;
        } else {
            bump(ST_SP_UNREADABLE);
        }
    }

    u64 zero = 0;
    u64 *c = counts.lookup_or_try_init(&key, &zero);
    if (c)
        __sync_fetch_and_add(c, 1);
    else
        bump(ST_HASH_FULL);
    return 0;
}
