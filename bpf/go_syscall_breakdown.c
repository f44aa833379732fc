// go_syscall_breakdown: per-syscall count, time and log2 latency histogram of one process,
// from the raw_syscalls tracepoints (kprobes are not needed, and not always there), filtered
// by tgid in the kernel. With -DWANT_STACKS, the user stack at entry (Go keeps frame pointers
// on amd64) is counted per (syscall, stack); the helper returns addresses and the TypeScript
// side symbolizes them.
//
// Compiled with -DTGID=<pid> [-DWANT_STACKS=1].
#define NSLOTS 64

struct start_t {
    u64 ts;
    u64 nr;
};
struct stat_t {
    u64 count;
    u64 total_ns;
};
struct hkey {
    u32 nr;
    u32 slot;
};

BPF_HASH(started, u32, struct start_t, 16384);  // tid -> syscall in flight
BPF_HASH(stats, u32, struct stat_t, 512);
BPF_HASH(hist, struct hkey, u64, 8192);
#ifdef WANT_STACKS
struct skey {
    u32 nr;
    s32 stackid;
};
BPF_STACK_TRACE(stacks, 4096);
BPF_HASH(site_counts, struct skey, u64, 8192);
#endif

TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    u64 id = bpf_get_current_pid_tgid();
    if ((id >> 32) != TGID)
        return 0;
    u32 tid = (u32)id;
    struct start_t s = {.ts = bpf_ktime_get_ns(), .nr = (u64)args->id};
    started.update(&tid, &s);
#ifdef WANT_STACKS
    struct skey k = {.nr = (u32)args->id, .stackid = stacks.get_stackid(args, BPF_F_USER_STACK)};
    u64 zero = 0;
    u64 *c = site_counts.lookup_or_try_init(&k, &zero);
    if (c)
        __sync_fetch_and_add(c, 1);
#endif
    return 0;
}

TRACEPOINT_PROBE(raw_syscalls, sys_exit) {
    u64 id = bpf_get_current_pid_tgid();
    if ((id >> 32) != TGID)
        return 0;
    u32 tid = (u32)id;
    struct start_t *s = started.lookup(&tid);
    if (!s)
        return 0;   // entered before we attached
    u64 delta = bpf_ktime_get_ns() - s->ts;
    u32 nr = (u32)s->nr;
    started.delete(&tid);
    struct stat_t zs = {};
    struct stat_t *st = stats.lookup_or_try_init(&nr, &zs);
    if (st) {
        __sync_fetch_and_add(&st->count, 1);
        __sync_fetch_and_add(&st->total_ns, delta);
    }
    u32 slot = bpf_log2l(delta);
    if (slot >= NSLOTS)
        slot = NSLOTS - 1;
    struct hkey hk = {.nr = nr, .slot = slot};
    u64 zero = 0;
    u64 *c = hist.lookup_or_try_init(&hk, &zero);
    if (c)
        __sync_fetch_and_add(c, 1);
    return 0;
}
