// AXI-Stream source, sink and monitor.
#include "bfm.h"
#include "signals.h"

namespace {

// Ports shared by every AXI-Stream role; the direction depends on who drives the stream.
struct AxisPorts {
    const Port* tdata;
    const Port* tvalid;
    const Port* tready;  // optional: a stream without tready is always ready
    const Port* tkeep;   // optional: all lanes valid
    const Port* tlast;   // optional: every beat ends a frame
    const Port* tuser;   // optional: driven 0 by a source, ignored by sinks
    size_t lanes;
    uint64_t allLanes;
};

class AxisSource final : public Bfm {
public:
    AxisSource(const std::string& p, const PortIndex& ports) : Bfm(Role::Source) {
        s_.tdata = bindPort(ports, p + "_tdata", Dir::In, true);
        s_.tvalid = bindPort(ports, p + "_tvalid", Dir::In, true);
        s_.tready = bindPort(ports, p + "_tready", Dir::Out, false);
        s_.tkeep = bindPort(ports, p + "_tkeep", Dir::In, false);
        s_.tlast = bindPort(ports, p + "_tlast", Dir::In, false);
        s_.tuser = bindPort(ports, p + "_tuser", Dir::In, false);
        checkShape(s_);
        quiesce();
    }

    static void checkShape(AxisPorts& s) {
        if (s.tdata->width % 8 != 0) throw ArgumentError(s.tdata->name + " is not a whole number of bytes");
        s.lanes = static_cast<size_t>(s.tdata->width) / 8;
        if (s.tkeep && static_cast<size_t>(s.tkeep->width) != s.lanes)
            throw ArgumentError(s.tkeep->name + " must have one bit per byte lane");
        if (s.tkeep && s.lanes > 64) throw ArgumentError("tkeep wider than 64 bits is not supported");
        s.allLanes = s.lanes >= 64 ? ~uint64_t{0} : (uint64_t{1} << s.lanes) - 1;
        if (s.tuser && s.tuser->width > 64) throw ArgumentError("tuser wider than 64 bits is not supported");
    }

    void drive() override {
        const bool paused = pausedThisCycle();
        if (holding_) return;  // a presented beat stays valid until it is accepted (AXI-Stream rule)
        if (paused || frames_.empty()) {
            writeU64(*s_.tvalid, 0);
            return;
        }
        const Bytes& f = frames_.front();
        const size_t n = std::min(s_.lanes, f.size() - offset_);
        writeBytes(*s_.tdata, f.data() + offset_, n);
        if (s_.tkeep) writeU64(*s_.tkeep, n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1);
        if (s_.tlast) writeU64(*s_.tlast, offset_ + n == f.size());
        writeU64(*s_.tvalid, 1);
        holding_ = true;
    }

    void sample(uint64_t) override {
        if (!holding_ || (s_.tready && !readU64(*s_.tready))) return;
        holding_ = false;
        ++beats_;
        offset_ += s_.lanes;
        if (offset_ < frames_.front().size()) return;
        offset_ = 0;
        if (!repeat_) frames_.pop_front();
    }

    void quiesce() override {
        writeU64(*s_.tvalid, 0);
        if (s_.tuser) writeU64(*s_.tuser, 0);
        holding_ = false;
        offset_ = 0;  // a frame cut by reset is sent again from its start
    }

    void clear() override {
        frames_.clear();
        quiesce();
    }

    void send(std::vector<Bytes>&& items) override {
        for (const Bytes& f : items)
            if (f.empty()) throw ArgumentError("an AXI-Stream frame of length 0");
        for (Bytes& f : items) frames_.push_back(std::move(f));
    }

    size_t queued() const override { return frames_.size(); }
    bool busy() const override { return holding_ || offset_ > 0; }

    void benchRepeat(const Bytes& frame) {
        frames_.assign(1, frame);
        repeat_ = true;
    }
    uint64_t beats() const { return beats_; }

private:
    AxisPorts s_{};
    std::deque<Bytes> frames_;
    size_t offset_ = 0;     // bytes of the front frame already transferred
    bool holding_ = false;  // tvalid is high with a beat not yet accepted
    bool repeat_ = false;
    uint64_t beats_ = 0;
};

// Sink (drives tready from the pause pattern) or monitor (drives nothing).
class AxisReceiver final : public Bfm {
public:
    AxisReceiver(Role role, const std::string& p, const PortIndex& ports) : Bfm(role) {
        // A sink receives outputs of the model; a monitor may watch either direction.
        const auto out = role == Role::Sink ? std::optional<Dir>(Dir::Out) : std::nullopt;
        const auto in = role == Role::Sink ? std::optional<Dir>(Dir::In) : std::nullopt;
        s_.tdata = bindPort(ports, p + "_tdata", out, true);
        s_.tvalid = bindPort(ports, p + "_tvalid", out, true);
        s_.tready = bindPort(ports, p + "_tready", in, false);
        s_.tkeep = bindPort(ports, p + "_tkeep", out, false);
        s_.tlast = bindPort(ports, p + "_tlast", out, false);
        AxisSource::checkShape(s_);
        quiesce();
    }

    void drive() override {
        const bool paused = pausedThisCycle();
        if (role_ == Role::Sink && s_.tready) writeU64(*s_.tready, !paused);
    }

    void sample(uint64_t edge) override {
        if (!readU64(*s_.tvalid) || (s_.tready && !readU64(*s_.tready))) return;
        ++beats_;
        if (!inFrame_) {
            start_ = edge;
            inFrame_ = true;
        }
        if (store_) {
            const auto* lane = static_cast<const uint8_t*>(s_.tdata->ptr);
            const uint64_t keep = s_.tkeep ? readU64(*s_.tkeep) : s_.allLanes;
            if (keep == s_.allLanes) {
                frame_.insert(frame_.end(), lane, lane + s_.lanes);
            } else {
                for (size_t i = 0; i < s_.lanes; ++i)
                    if ((keep >> i) & 1) frame_.push_back(lane[i]);
            }
        }
        if (s_.tlast && !readU64(*s_.tlast)) return;
        inFrame_ = false;
        if (store_) items_.push_back(Item{start_, edge, std::move(frame_)});
        frame_.clear();
    }

    void quiesce() override {
        if (role_ == Role::Sink && s_.tready) writeU64(*s_.tready, 0);
    }

    void clear() override {
        items_.clear();
        frame_.clear();
        inFrame_ = false;
    }

    void send(std::vector<Bytes>&&) override { throw ArgumentError("send needs a source BFM"); }
    size_t queued() const override { return 0; }
    bool busy() const override { return inFrame_; }

    void benchDiscard() { store_ = false; }
    uint64_t beats() const { return beats_; }

private:
    AxisPorts s_{};
    Bytes frame_;  // bytes of the frame being received
    uint64_t start_ = 0;
    bool inFrame_ = false;
    bool store_ = true;
    uint64_t beats_ = 0;
};

}  // namespace

std::unique_ptr<Bfm> makeAxisBfm(Role role, const std::string& prefix, const PortIndex& ports) {
    if (role == Role::Source) return std::make_unique<AxisSource>(prefix, ports);
    return std::make_unique<AxisReceiver>(role, prefix, ports);
}

void setAxisBenchMode(Bfm& bfm, const Bytes& frame) {
    if (auto* src = dynamic_cast<AxisSource*>(&bfm)) src->benchRepeat(frame);
    if (auto* rx = dynamic_cast<AxisReceiver*>(&bfm)) rx->benchDiscard();
}

uint64_t axisBeats(const Bfm& bfm) {
    if (const auto* src = dynamic_cast<const AxisSource*>(&bfm)) return src->beats();
    if (const auto* rx = dynamic_cast<const AxisReceiver*>(&bfm)) return rx->beats();
    return 0;
}
