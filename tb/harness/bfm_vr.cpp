// Generic valid/ready channel: source, sink and monitor. A transaction's payload is its fields in
// order, each little-endian in ceil(width / 8) bytes.
#include "bfm.h"
#include "signals.h"

namespace {

class VrBfm final : public Bfm {
public:
    VrBfm(Role role, const std::string& p, std::vector<std::string> fields, const std::vector<Port>& table,
          const PortIndex& ports)
        : Bfm(role) {
        // The model's inputs when we are the source, its outputs when we are the sink.
        std::optional<Dir> data = Dir::In, back = Dir::Out;
        if (role == Role::Sink) std::swap(data, back);
        if (role == Role::Monitor) data = back = std::nullopt;
        valid_ = bindPort(ports, p + "_valid", data, true);
        ready_ = bindPort(ports, p + "_ready", back, false);
        if (fields.empty()) {
            const std::string head = p + "_";
            for (const Port& port : table)
                if (port.name.compare(0, head.size(), head) == 0 && &port != valid_ && &port != ready_)
                    fields.push_back(port.name.substr(head.size()));
        }
        if (fields.empty()) throw ArgumentError("no payload fields for " + p);
        fieldNames_ = fields;
        for (const std::string& f : fields) {
            fields_.push_back(bindPort(ports, p + "_" + f, data, true));
            payloadBytes_ += valueBytes(*fields_.back());
        }
        quiesce();
    }

    void drive() override {
        const bool paused = pausedThisCycle();
        if (role_ == Role::Sink) {
            if (ready_) writeU64(*ready_, !paused);
            return;
        }
        if (role_ != Role::Source || holding_) return;  // a presented transfer stays until accepted
        if (paused || queue_.empty()) {
            writeU64(*valid_, 0);
            return;
        }
        const uint8_t* at = queue_.front().data();
        for (const Port* f : fields_) {
            writeBytes(*f, at, valueBytes(*f));
            at += valueBytes(*f);
        }
        writeU64(*valid_, 1);
        holding_ = true;
    }

    void sample(uint64_t edge) override {
        const bool fired = readU64(*valid_) && (!ready_ || readU64(*ready_));
        if (!fired) return;
        if (role_ == Role::Source) {
            holding_ = false;
            queue_.pop_front();
            return;
        }
        Bytes payload(payloadBytes_);
        uint8_t* at = payload.data();
        for (const Port* f : fields_) {
            readBytes(*f, at);
            at += valueBytes(*f);
        }
        items_.push_back(Item{edge, edge, std::move(payload)});
    }

    void quiesce() override {
        if (role_ == Role::Source) writeU64(*valid_, 0);
        if (role_ == Role::Sink && ready_) writeU64(*ready_, 0);
        holding_ = false;
    }

    void clear() override {
        queue_.clear();
        items_.clear();
        quiesce();
    }

    void send(std::vector<Bytes>&& items) override {
        if (role_ != Role::Source) throw ArgumentError("send needs a source BFM");
        for (const Bytes& t : items)
            if (t.size() != payloadBytes_)
                throw ArgumentError("transaction of " + std::to_string(t.size()) + " bytes, expected " +
                                    std::to_string(payloadBytes_));
        for (Bytes& t : items) queue_.push_back(std::move(t));
    }

    size_t queued() const override { return queue_.size(); }
    std::vector<std::string> fieldNames() const override { return fieldNames_; }
    bool busy() const override { return holding_; }

private:
    const Port* valid_ = nullptr;
    const Port* ready_ = nullptr;  // optional: a channel without ready accepts every valid
    std::vector<const Port*> fields_;
    std::vector<std::string> fieldNames_;
    size_t payloadBytes_ = 0;
    std::deque<Bytes> queue_;
    bool holding_ = false;
};

}  // namespace

std::unique_ptr<Bfm> makeVrBfm(Role role, const std::string& prefix, std::vector<std::string> fields,
                               const std::vector<Port>& portTable, const PortIndex& ports) {
    return std::make_unique<VrBfm>(role, prefix, std::move(fields), portTable, ports);
}
