// Generic Verilator main: serves the co-simulation protocol (docs/cosim-protocol.md) for whichever top
// module ports_gen.cpp wraps, or measures raw speed with --bench.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

#include "server.h"
#include "sim.h"
#include "verilated.h"

volatile std::sig_atomic_t g_stopRequested = 0;

namespace {

struct Options {
    ServerOptions server;
    std::string clock = "clk";
    std::string reset = "rst";
    uint64_t benchCycles = 0;  // 0: serve instead
    std::vector<std::pair<std::string, std::string>> benchBinds;  // kind, prefix
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--endpoint tcp://host:port] [--idle-timeout S] [--ppid PID] [--no-stdin]\n"
                 "          [--clock clk] [--reset rst] [--bench CYCLES [--bind kind:prefix]...]\n",
                 argv0);
    std::exit(2);
}

Options parseArgs(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(argv[0]);
            return argv[++i];
        };
        if (a == "--endpoint") o.server.endpoint = next();
        else if (a == "--idle-timeout") o.server.idleTimeoutSeconds = std::stod(next());
        else if (a == "--ppid") o.server.parent = static_cast<pid_t>(std::stol(next()));
        else if (a == "--no-stdin") o.server.watchStdin = false;
        else if (a == "--clock") o.clock = next();
        else if (a == "--reset") o.reset = next();
        else if (a == "--bench") o.benchCycles = std::stoull(next());
        else if (a == "--bind") {
            const std::string spec = next();
            const size_t colon = spec.find(':');
            if (colon == std::string::npos) usage(argv[0]);
            o.benchBinds.emplace_back(spec.substr(0, colon), spec.substr(colon + 1));
        } else if (a[0] == '+') {
            continue;  // plusargs are for the model ($test$plusargs)
        } else usage(argv[0]);
    }
    return o;
}

void onStopSignal(int) { g_stopRequested = 1; }

void installSignalHandlers() {
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;  // no SA_RESTART: a blocking poll returns at once
    sigemptyset(&sa.sa_mask);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

// Keeps a full AXI-Stream source and an always-ready sink busy and reports cycles per second.
int bench(Sim& sim, const Options& o, FILE* out) {
    Bytes frame(1500);
    for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<uint8_t>(i * 7 + 1);
    for (const auto& [kind, prefix] : o.benchBinds) {
        std::unique_ptr<Bfm> b;
        if (kind == "axis_source") b = makeAxisBfm(Role::Source, prefix, sim.portIndex());
        else if (kind == "axis_sink") b = makeAxisBfm(Role::Sink, prefix, sim.portIndex());
        else throw std::runtime_error("--bind supports axis_source and axis_sink");
        setAxisBenchMode(*b, frame);
        sim.addBfm(prefix, std::move(b));
    }
    sim.reset(4, false);
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t cycles = sim.step(o.benchCycles);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;
    uint64_t beats = 0;
    for (const auto& [name, b] : sim.bfms())
        if (b->role() == Role::Sink) beats += axisBeats(*b);
    std::fprintf(out, "{\"cycles\": %llu, \"seconds\": %.6f, \"cyclesPerSecond\": %.0f, \"beats\": %llu}\n",
                 static_cast<unsigned long long>(cycles), seconds.count(), cycles / seconds.count(),
                 static_cast<unsigned long long>(beats));
    std::fflush(out);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // stdout carries only READY / the bench line: keep a private handle on it and send everything
    // else written to fd 1 (by the model or any library) to stderr.
    FILE* out = fdopen(dup(STDOUT_FILENO), "w");
    dup2(STDERR_FILENO, STDOUT_FILENO);

    const Options o = parseArgs(argc, argv);
    installSignalHandlers();
    // Die with the parent; if it already died before prctl took effect, leave now.
    const pid_t parent = o.server.parent != 0 ? o.server.parent : getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 0;
    ServerOptions serverOptions = o.server;
    serverOptions.parent = parent;

    try {
        const auto ctx = std::make_unique<VerilatedContext>();
        ctx->commandArgs(argc, argv);
        ctx->traceEverOn(true);
        ctx->fatalOnError(false);  // an assertion becomes an error reply, not an abort
        Sim sim(ctx.get(), makeModel(ctx.get()), o.clock, o.reset);
        if (o.benchCycles > 0) return bench(sim, o, out);
        return serve(sim, serverOptions, out);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harness: %s\n", e.what());
        return 1;
    }
}
