"""go-perf-lens privileged helper, as a package of modules by job.

  protocol    JSON-lines messages on stdout, errors (codes from error_codes.json), stop state
  lifecycle   cleanups, signals, the stdin watcher, the reaper, the private dir, child processes
  args        validation of every subcommand argument
  resources   the BPF C sources (sent in the envelope, or read beside the package)
  exe         reading executables: ELF headers, notes, Go build information
  perf_tools  finding perf, probing its events
  versions    the protocol and helper versions (version.json)
  registry    the subcommand table
  authz       who the caller is, and whether they may act on a process
  serve       the installed helper's entry: one validated JSON request on stdin, no code
  probe, processes, binary, perf_record      the perf-side subcommands
  ebpf        what the BCC subcommands share (compile, address checks, run loop, detach)
  x86len      x86-64 instruction lengths: a probe goes only where an instruction starts
  tracer (trace), sched, syscalls, cpu_profile (profile)   one module per eBPF tool
  main        entry points: run one subcommand, the envelope, the command line

Importing `main` registers every subcommand. BCC is imported only inside the eBPF subcommands.
"""
