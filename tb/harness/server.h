// The ZeroMQ request server (docs/cosim-protocol.md).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/types.h>

#include "sim.h"

// Cycles one step, run or reset may ask for: every request ends in bounded time.
constexpr uint64_t kMaxCyclesPerRequest = 1'000'000'000;

struct ServerOptions {
    std::string endpoint;             // empty: ipc:// in a private directory the harness creates
    std::string wavesDir = "waves";   // trace files must lie inside it
    double idleTimeoutSeconds = 600;  // 0 disables
    pid_t parent = 0;                 // exit when our parent is no longer this process
    bool watchStdin = true;           // exit on EOF on stdin
};

// Binds, prints `READY <endpoint> <secret>` on `out`, serves until a reason to exit; returns the exit code.
int serve(Sim& sim, const ServerOptions& options, FILE* out);
