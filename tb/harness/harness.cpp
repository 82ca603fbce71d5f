// Generic Verilator main: serves the co-simulation protocol (docs/cosim-protocol.md) for whichever top
// module ports_gen.cpp wraps, or measures raw speed with --bench.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/prctl.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"
#include "sim.h"
#include "verilated.h"
#if VM_COVERAGE
#include <filesystem>

#include "verilated_cov.h"
#endif

volatile std::sig_atomic_t g_stopRequested = 0;

namespace {

struct Options {
    ServerOptions server;
    std::string clock = "clk";
    std::string reset = "rst";
    uint64_t benchCycles = 0;  // 0: serve instead
    std::vector<std::pair<std::string, std::string>> benchBinds;  // kind, prefix
};

constexpr const char* kUsage =
    "usage: %s [--endpoint ipc://PATH | tcp://HOST:PORT] [--waves-dir DIR] [--idle-timeout S] [--ppid PID]\n"
    "          [--no-stdin] [--clock clk] [--reset rst] [--bench CYCLES [--bind kind:prefix]...]\n";

// Every bad option is one line on stderr and exit status 2.
[[noreturn]] void usageError(const char* argv0, const std::string& message) {
    std::fprintf(stderr, "%s: %s (--help shows the usage)\n", argv0, message.c_str());
    std::exit(2);
}

// A whole decimal number in [min, max]: no sign, nothing after it, nothing that wraps around.
uint64_t parseCount(const char* argv0, const std::string& option, const std::string& text, uint64_t min,
                    uint64_t max) {
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    errno = 0;
    const unsigned long long v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
    if (!digits || errno == ERANGE || v < min || v > max)
        usageError(argv0, option + ": '" + text + "' is not a whole number in " + std::to_string(min) + ".." +
                              std::to_string(max));
    return v;
}

double parseSeconds(const char* argv0, const std::string& option, const std::string& text) {
    char* end = nullptr;
    const double v = text.empty() ? -1 : std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1e9)
        usageError(argv0, option + ": '" + text + "' is not a number of seconds (0 disables)");
    return v;
}

// ZeroMQ takes tcp://host:99999 as another port, and knows transports the harness does not serve on.
void checkEndpoint(const char* argv0, const std::string& endpoint) {
    const auto bad = [&](const std::string& why) { usageError(argv0, "--endpoint: '" + endpoint + "' " + why); };
    if (endpoint.rfind("ipc://", 0) == 0) {
        const size_t pathBytes = endpoint.size() - 6;
        if (pathBytes == 0 || pathBytes >= sizeof(sockaddr_un::sun_path)) bad("needs a socket path under 108 bytes");
        return;
    }
    if (endpoint.rfind("tcp://", 0) != 0) bad("is not ipc://PATH or tcp://HOST:PORT");
    const size_t colon = endpoint.rfind(':');
    const std::string port = endpoint.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (colon <= 6 || (port != "*" && (!digits || std::stoul(port) > 65535)))
        bad("needs a host and a port in 0..65535 (or *)");
}

Options parseArgs(int argc, char** argv, FILE* out) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usageError(argv[0], a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fprintf(out, kUsage, argv[0]);
            std::exit(0);
        } else if (a == "--endpoint") {
            o.server.endpoint = next();
            checkEndpoint(argv[0], o.server.endpoint);
        } else if (a == "--waves-dir") o.server.wavesDir = next();
        else if (a == "--idle-timeout") o.server.idleTimeoutSeconds = parseSeconds(argv[0], a, next());
        else if (a == "--ppid") o.server.parent = static_cast<pid_t>(parseCount(argv[0], a, next(), 1, INT32_MAX));
        else if (a == "--no-stdin") o.server.watchStdin = false;
        else if (a == "--clock") o.clock = next();
        else if (a == "--reset") o.reset = next();
        else if (a == "--bench") o.benchCycles = parseCount(argv[0], a, next(), 1, kMaxCyclesPerRequest);
        else if (a == "--bind") {
            const std::string spec = next();
            const size_t colon = spec.find(':');
            if (colon == std::string::npos) usageError(argv[0], "--bind: '" + spec + "' is not kind:prefix");
            o.benchBinds.emplace_back(spec.substr(0, colon), spec.substr(colon + 1));
        } else if (a[0] == '+') {
            continue;  // plusargs are for the model ($test$plusargs)
        } else usageError(argv[0], "unknown option '" + a + "'");
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

#if VM_COVERAGE
// An instrumented build (harness.mk COVERAGE=1) leaves its counts in $DDP_COVERAGE_DIR (default
// build/coverage/dat) as <$DDP_COVERAGE_LABEL or top>-<pid>.dat, on every exit that returns from main.
void writeCoverage(VerilatedContext& ctx) {
    const char* dir = std::getenv("DDP_COVERAGE_DIR");
    const char* label = std::getenv("DDP_COVERAGE_LABEL");
    const std::filesystem::path path = std::filesystem::path(dir != nullptr && *dir ? dir : "build/coverage/dat") /
        ((label != nullptr && *label ? std::string(label) : std::string("harness")) + "-" + std::to_string(getpid()) + ".dat");
    std::error_code err;
    std::filesystem::create_directories(path.parent_path(), err);
    ctx.coveragep()->write(path.c_str());
}
#else
void writeCoverage(VerilatedContext&) {}
#endif

}  // namespace

int main(int argc, char** argv) {
    // stdout carries only READY / the bench line: keep a private handle on it and send everything
    // else written to fd 1 (by the model or any library) to stderr.
    FILE* out = fdopen(dup(STDOUT_FILENO), "w");
    dup2(STDERR_FILENO, STDOUT_FILENO);

    const Options o = parseArgs(argc, argv, out);
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
        // Signals, stdin EOF, parent death, bye and the idle timeout all return from serve(); the counts
        // live in the model, so they are written while it exists, also when serving failed.
        int status = 1;
        try {
            status = o.benchCycles > 0 ? bench(sim, o, out) : serve(sim, serverOptions, out);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "harness: %s\n", e.what());
        }
        writeCoverage(*ctx);
        return status;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "harness: %s\n", e.what());
        return 1;
    }
}
