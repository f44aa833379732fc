// go_cpu_profile: a CPU sampler for one Go process that sends every sample whole through a BPF
// ring buffer: the frame-pointer user stack (the same walk perf does), the user ip, and the
// 8-byte word at the user SP. A sample taken where the leaf function has no frame of its own (a
// frameless leaf, or any function in its prologue or epilogue) has a stack that skips the leaf's
// caller, because the walk starts from a BP that still belongs to that caller; there, the word
// at SP is the return address into the caller, and the TypeScript side puts the caller back (it
// knows, from the binary's pcsp table, where the SP delta is 0).
//
// Each sample is its own record (no stack map whose buckets collide and drop stacks); the helper
// counts equal records. A record that finds the ring full is counted (ST_RING_FULL), never lost
// silently; a stack that fills the whole buffer may have been cut (the helper counts those).
//
// Attached to a cpu-clock (or cycles) perf event on every CPU; filtered by tgid here.
// Compiled with -DTGID=<pid> -DTEXT_LO=<addr> -DTEXT_HI=<addr> -DUSER_DEPTH=<frames>
// -DRING_PAGES=<pages> [-DWANT_KERNEL=1 -DKERNEL_DEPTH=<frames>].
#include <uapi/linux/ptrace.h>
#include <uapi/linux/bpf_perf_event.h>
#include <linux/sched.h>

#ifndef KERNEL_DEPTH
#define KERNEL_DEPTH 1
#endif

struct sample_t {
    u64 spword;  // the word at the user SP when it is a text address of the binary, else 0
    u64 ip;      // the user ip (the one the user stack starts from)
    s32 ulen;    // bytes of user stack written, or bpf_get_stack's negative errno
    s32 klen;    // bytes of kernel stack (WANT_KERNEL and a kernel-mode sample), -1 not taken, or -errno
    u64 user[USER_DEPTH];
    u64 kernel[KERNEL_DEPTH];
};

// stats slots (per CPU, summed by the helper)
#define ST_SAMPLES 0
#define ST_USTACK_ERR 1
#define ST_KSTACK_ERR 2
#define ST_RING_FULL 3
#define ST_SP_UNREADABLE 4
#define ST_KERNEL_MODE 5
#define ST_NO_USER_REGS 6
#define ST_PERIOD_SUM 7
#define NSTATS 8

BPF_RINGBUF_OUTPUT(samples, RING_PAGES);
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

    struct sample_t *s = samples.ringbuf_reserve(sizeof(struct sample_t));
    if (!s) {
        bump(ST_RING_FULL);
        return 0;
    }
    // The user registers: the sampled ones in user mode; in kernel mode (a syscall, a page
    // fault) the ones saved at kernel entry, which is also where bpf_get_stack starts its walk.
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
    s->ip = uip;
    s->spword = 0;
    s->ulen = bpf_get_stack(ctx, s->user, sizeof(s->user), BPF_F_USER_STACK);
    if (s->ulen < 0)
        bump(ST_USTACK_ERR);
    s->klen = -1;
#ifdef WANT_KERNEL
    if (kernel_mode) {
        s->klen = bpf_get_stack(ctx, s->kernel, sizeof(s->kernel), 0);
        if (s->klen < 0)
            bump(ST_KSTACK_ERR);
    }
#endif
    if (usp) {
        u64 w = 0;
        if (bpf_probe_read_user(&w, sizeof(w), (void *)usp) == 0) {
            if (w >= TEXT_LO && w < TEXT_HI)
                s->spword = w;
        } else {
            bump(ST_SP_UNREADABLE);
        }
    }
    // No wakeup per record: the helper drains the ring on its own clock (every 50 ms), so a
    // sample costs no scheduler work in the target's time.
    samples.ringbuf_submit(s, BPF_RB_NO_WAKEUP);
    return 0;
}
