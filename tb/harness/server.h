// The ZeroMQ request server (docs/cosim-protocol.md).
#pragma once
#include <cstdio>
#include <string>
#include <sys/types.h>

#include "sim.h"

struct ServerOptions {
    std::string endpoint = "tcp://127.0.0.1:*";
    double idleTimeoutSeconds = 600;  // 0 disables
    pid_t parent = 0;                 // exit when our parent is no longer this process
    bool watchStdin = true;           // exit on EOF on stdin
};

// Binds, prints `READY <endpoint>` on `out`, serves until a reason to exit; returns the exit code.
int serve(Sim& sim, const ServerOptions& options, FILE* out);
