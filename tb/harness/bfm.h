// Bus-functional models: they hold direct pointers to the model's ports and run inside the clock loop.
// Each cycle the simulator calls drive() (inputs for the coming edge), settles, then sample(edge), then
// clocks the edge. A transfer happens at an edge where valid and ready were both high just before it.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "model.h"

using Bytes = std::vector<uint8_t>;
using PortIndex = std::unordered_map<std::string, const Port*>;

// A received frame / transaction: the edges (cycle numbers) of its first and last transfer.
struct Item {
    uint64_t start;
    uint64_t end;
    Bytes data;
};

enum class Role { Source, Sink, Monitor };

// Bad bind arguments or payloads; the server answers with an `argument` error.
struct ArgumentError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Bfm {
public:
    explicit Bfm(Role role) : role_(role) {}
    virtual ~Bfm() = default;

    virtual void drive() = 0;                // set driven inputs for the coming edge
    virtual void sample(uint64_t edge) = 0;  // observe the handshake just before edge number `edge`
    virtual void quiesce() = 0;              // drive valid/ready low (during reset)
    virtual void clear() = 0;                // drop queued and received items, forget a partial frame
    virtual void send(std::vector<Bytes>&& items) = 0;  // sources only; throws ArgumentError
    virtual size_t queued() const = 0;       // items not yet completely sent (sources)
    virtual bool busy() const = 0;           // mid-frame / holding a transfer

    Role role() const { return role_; }
    bool idle() const { return queued() == 0 && !busy(); }
    const std::vector<std::string>& signals() const { return signals_; }
    // The model inputs this BFM writes: no two BFMs may drive the same port.
    const std::vector<const Port*>& driven() const { return driven_; }
    // Payload field names in payload order (valid/ready channels only).
    virtual std::vector<std::string> fieldNames() const { return {}; }
    // Received items waiting to be fetched (sinks and monitors).
    std::deque<Item>& items() { return items_; }

    // "0"/"1" per cycle, repeated; 1 = pause. Empty = never pause.
    void setPause(const std::string& pattern);

protected:
    // Advances the pause pattern by one cycle and tells whether this cycle is paused.
    bool pausedThisCycle() {
        if (pause_.empty()) return false;
        const bool p = pause_[pauseAt_];
        if (++pauseAt_ == pause_.size()) pauseAt_ = 0;
        return p;
    }
    // Looks up a port by name; throws if required and missing or if the direction is not `dir`
    // (no direction check when `dir` is empty: monitors watch inputs and outputs alike). A port bound
    // as an input is one the BFM drives.
    const Port* bindPort(const PortIndex& ports, const std::string& name, std::optional<Dir> dir, bool required);

    Role role_;
    std::vector<std::string> signals_;
    std::vector<const Port*> driven_;
    std::deque<Item> items_;

private:
    std::vector<bool> pause_;
    size_t pauseAt_ = 0;
};

// `fields` only applies to valid/ready channels; empty means every other `<prefix>_*` port.
std::unique_ptr<Bfm> makeAxisBfm(Role role, const std::string& prefix, const PortIndex& ports);
std::unique_ptr<Bfm> makeVrBfm(Role role, const std::string& prefix, std::vector<std::string> fields,
                               const std::vector<Port>& portTable, const PortIndex& ports);

// Bench mode: makes an AXI-Stream source resend `frame` forever, or a sink count without storing.
void setAxisBenchMode(Bfm& bfm, const Bytes& frame);
uint64_t axisBeats(const Bfm& bfm);
