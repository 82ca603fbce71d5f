#include "sim.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "signals.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace {
// Recent simulator output; an assertion reply quotes its %Error lines. Bounded so $display spam
// cannot grow it without limit.
std::string g_simOutput;
constexpr size_t kMaxSimOutput = 64 * 1024;

// Time units per cycle in the trace: clk falls at +5, rises at +10.
constexpr uint64_t kTicksPerCycle = 10;

// Cycles between two calls of the watchdog: rare enough to cost nothing, often enough to react within
// milliseconds even on a large top.
constexpr uint32_t kWatchCycles = 1024;
}  // namespace

int harnessVprintf(const char* format, va_list args) {
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (n <= 0) return n;
    std::string text(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), format, args);
    text.pop_back();
    std::fputs(text.c_str(), stderr);
    g_simOutput += text;
    if (g_simOutput.size() > kMaxSimOutput) g_simOutput.erase(0, g_simOutput.size() - kMaxSimOutput / 2);
    return n;
}

int harnessPrintf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    const int n = harnessVprintf(format, args);
    va_end(args);
    return n;
}

Sim::Sim(VerilatedContext* ctx, std::unique_ptr<Model> model, const std::string& clock, const std::string& reset)
    : ctx_(ctx), model_(std::move(model)), clockName_(clock), resetName_(reset) {
    for (const Port& p : model_->ports()) index_[p.name] = &p;
    const Port* clk = port(clock);
    if (!clk || clk->dir != Dir::In || clk->width != 1)
        throw std::runtime_error("no 1-bit input clock port '" + clock + "'");
    clk_ = static_cast<uint8_t*>(clk->ptr);
    rst_ = port(reset);
    if (rst_ && (rst_->dir != Dir::In || rst_->width != 1))
        throw std::runtime_error("reset port '" + reset + "' must be a 1-bit input");
    rstActiveLow_ = reset.size() > 2 && reset.compare(reset.size() - 2, 2, "_n") == 0;
    if (rst_) writeU64(*rst_, rstActiveLow_);
    *clk_ = 0;
    evalAt(0);
}

Sim::~Sim() {
    traceClose();
    model_->final();
}

const Port* Sim::port(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

void Sim::evalAt(uint64_t time) {
    ctx_->time(time);
    model_->eval();
    if (ctx_->gotError() || ctx_->gotFinish()) noteEvent();
    if (tfp_) tfp_->dump(time);
}

void Sim::cycleOnce() {
    if (bfmsOn_)
        for (Bfm* b : active_) b->drive();
    *clk_ = 0;
    evalAt(cycle_ * kTicksPerCycle + kTicksPerCycle / 2);
    const uint64_t edge = cycle_ + 1;
    if (bfmsOn_)
        for (Bfm* b : active_) b->sample(edge);
    cycle_ = edge;
    *clk_ = 1;
    evalAt(edge * kTicksPerCycle);
}

void Sim::settle() { evalAt(ctx_->time()); }

bool Sim::halted() {
    if (interrupted_) return true;
    if (g_stopRequested) return interrupted_ = true;
    if (++sinceWatch_ < kWatchCycles) return false;
    sinceWatch_ = 0;
    interrupted_ = watchdog_ && watchdog_();
    return interrupted_;
}

uint64_t Sim::step(uint64_t cycles) {
    uint64_t n = 0;
    while (n < cycles && !stopping()) {
        cycleOnce();
        ++n;
    }
    return n;
}

bool Sim::holds(const Condition& c) const {
    switch (c.type) {
        case Condition::Type::Idle:
            if (c.bfm) return c.bfm->idle();
            for (const Bfm* b : active_)
                if (b->role() == Role::Source && !b->idle()) return false;
            return true;
        case Condition::Type::Received: return c.bfm->items().size() >= c.count;
        case Condition::Type::Signal: return std::memcmp(c.port->ptr, c.value.data(), c.value.size()) == 0;
    }
    return false;
}

uint64_t Sim::runUntil(uint64_t maxCycles, const std::vector<Condition>& until, std::vector<size_t>& met) {
    auto anyHolds = [&] {
        for (const Condition& c : until)
            if (holds(c)) return true;
        return false;
    };
    uint64_t n = 0;
    if (until.empty()) {
        n = step(maxCycles);
    } else {
        while (!anyHolds() && n < maxCycles && !stopping()) {
            cycleOnce();
            ++n;
        }
    }
    met.clear();
    for (size_t i = 0; i < until.size(); ++i)
        if (holds(until[i])) met.push_back(i);
    return n;
}

uint64_t Sim::reset(uint64_t cycles, bool clearBfms) {
    for (Bfm* b : active_) {
        if (clearBfms) b->clear();
        b->quiesce();
    }
    bfmsOn_ = false;
    if (rst_) writeU64(*rst_, !rstActiveLow_);
    // Assertions during reset are reported, but reset always runs to the end.
    uint64_t n = 0;
    while (n < cycles && !finished_ && !halted()) {
        cycleOnce();
        ++n;
    }
    if (rst_) writeU64(*rst_, rstActiveLow_);
    bfmsOn_ = true;
    settle();
    return n;
}

void Sim::noteEvent() {
    const bool error = ctx_->gotError();
    // $stop (which an assertion calls) sets both flags; $finish only gotFinish.
    ctx_->gotError(false);
    ctx_->gotFinish(false);
    ctx_->errorCount(0);
    if (!error) finished_ = true;
    if (hasEvent()) return;  // the first event of a request is the one reported

    event_.kind = error ? SimEvent::Kind::Assertion : SimEvent::Kind::Finished;
    event_.cycle = cycle_;
    // Keep the %Error lines (or the $finish line). An assertion's line reads
    // "[time] %Error: file:line: Assertion failed in <hierarchy>: <text>".
    size_t from = 0;
    while (from < g_simOutput.size()) {
        size_t eol = g_simOutput.find('\n', from);
        if (eol == std::string::npos) eol = g_simOutput.size();
        const std::string line = g_simOutput.substr(from, eol - from);
        from = eol + 1;
        const bool finishLine = !error && line.find("$finish") != std::string::npos;
        if (line.find("%Error") == std::string::npos && !finishLine) continue;
        if (!event_.message.empty()) event_.message += '\n';
        event_.message += line;
        const std::string marker = "Assertion failed in ";
        const size_t at = line.find(marker);
        if (at != std::string::npos && event_.assertion.empty()) {
            const size_t begin = at + marker.size();
            const size_t end = line.find_first_of(": ", begin);
            event_.assertion = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        }
    }
    if (error && event_.assertion.empty()) event_.assertion = event_.message;
    if (!error && event_.message.empty()) event_.message = "$finish called";
    g_simOutput.clear();
}

SimEvent Sim::takeEvent() {
    SimEvent e = std::move(event_);
    event_ = SimEvent{};
    return e;
}

void Sim::addBfm(const std::string& name, std::unique_ptr<Bfm> bfm) {
    active_.push_back(bfm.get());
    bfms_[name] = std::move(bfm);
}

Bfm* Sim::bfm(const std::string& name) const {
    const auto it = bfms_.find(name);
    return it == bfms_.end() ? nullptr : it->second.get();
}

void Sim::traceOpen(const std::string& path) {
    traceClose();
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code err;
    if (!parent.empty()) std::filesystem::create_directories(parent, err);
    if (err) throw ArgumentError("cannot create " + parent.string() + ": " + err.message());
    tfp_ = std::make_unique<VerilatedFstC>();
    model_->trace(tfp_.get(), 99);
    tfp_->open(path.c_str());
    if (!tfp_->isOpen()) {
        tfp_.reset();
        throw ArgumentError("cannot open trace file " + path);
    }
    tfp_->dump(ctx_->time());
}

void Sim::traceClose() {
    if (!tfp_) return;
    tfp_->close();
    tfp_.reset();
}
