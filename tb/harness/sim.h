// The clock loop: one Verilated model, its BFMs, reset, run-until, tracing, and the assertions and
// $finish it reports.
#pragma once
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bfm.h"
#include "model.h"

class VerilatedContext;
class VerilatedFstC;

// Set by the signal handlers; long runs check it every cycle.
extern volatile std::sig_atomic_t g_stopRequested;

// Something the simulation reported: the first one since the last takeEvent().
struct SimEvent {
    enum class Kind { None, Assertion, Finished } kind = Kind::None;
    uint64_t cycle = 0;
    std::string message;    // the simulator's text
    std::string assertion;  // name / hierarchy of the failed assertion
};

// A `run` stop condition, resolved to pointers once so that checking it costs no lookups.
struct Condition {
    enum class Type { Idle, Received, Signal } type;
    Bfm* bfm = nullptr;  // Received; Idle of one source (null: every source)
    size_t count = 0;    // Received
    const Port* port = nullptr;  // Signal
    Bytes value;                 // Signal: little-endian, valueBytes(port) long
};

class Sim {
public:
    Sim(VerilatedContext* ctx, std::unique_ptr<Model> model, const std::string& clock, const std::string& reset);
    ~Sim();

    const Model& model() const { return *model_; }
    const Port* port(const std::string& name) const;
    const PortIndex& portIndex() const { return index_; }
    const std::string& clockName() const { return clockName_; }
    const std::string& resetName() const { return resetName_; }
    uint64_t cycle() const { return cycle_; }

    // Called every few thousand cycles of a step, run or reset; returning true stops it there (the server
    // checks for signals, stdin EOF, its parent's death and a client that went away).
    void setWatchdog(std::function<bool()> check) { watchdog_ = std::move(check); }
    // Whether the watchdog stopped the current request; cleared at the start of each request.
    bool interrupted() const { return interrupted_; }
    void clearInterrupted() { interrupted_ = false; }

    // Each of these stops early at an assertion, $finish, a stop request or the watchdog; they return the
    // cycles run.
    uint64_t step(uint64_t cycles);
    // Runs until any condition holds (checked before the first cycle and after each) or `maxCycles`.
    // `met` receives the indexes of the conditions that hold at the end.
    uint64_t runUntil(uint64_t maxCycles, const std::vector<Condition>& until, std::vector<size_t>& met);
    // Holds reset for `cycles` cycles with the BFMs quiet, then releases it.
    uint64_t reset(uint64_t cycles, bool clearBfms);
    // Re-evaluates after pokes so combinational outputs settle (no clock edge).
    void settle();

    bool finished() const { return finished_; }
    bool hasEvent() const { return event_.kind != SimEvent::Kind::None; }
    SimEvent takeEvent();

    // BFMs are kept in binding order; the per-cycle loop walks a plain vector of pointers.
    void addBfm(const std::string& name, std::unique_ptr<Bfm> bfm);
    Bfm* bfm(const std::string& name) const;
    const std::map<std::string, std::unique_ptr<Bfm>>& bfms() const { return bfms_; }

    void traceOpen(const std::string& path);  // closes any previous trace first
    void traceClose();

private:
    void cycleOnce();
    void evalAt(uint64_t time);
    void noteEvent();
    bool holds(const Condition& c) const;
    bool halted();  // a stop request or the watchdog
    bool stopping() { return hasEvent() || halted(); }

    VerilatedContext* ctx_;
    std::unique_ptr<Model> model_;
    PortIndex index_;
    std::string clockName_, resetName_;
    uint8_t* clk_ = nullptr;
    const Port* rst_ = nullptr;  // may be absent
    bool rstActiveLow_ = false;
    uint64_t cycle_ = 0;
    bool bfmsOn_ = true;
    bool finished_ = false;
    SimEvent event_;
    std::map<std::string, std::unique_ptr<Bfm>> bfms_;
    std::vector<Bfm*> active_;
    std::unique_ptr<VerilatedFstC> tfp_;
    std::function<bool()> watchdog_;
    uint32_t sinceWatch_ = 0;
    bool interrupted_ = false;
};
