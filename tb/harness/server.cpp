#include "server.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>
#include <unordered_set>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "json.h"
#include "signals.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kProtocolVersion = 1;
constexpr int kPollMillis = 200;  // how often the parent / stop / idle checks run while waiting
// How often a long step / run looks for reasons to stop (the Sim's watchdog is called far more often).
constexpr auto kWatchInterval = std::chrono::milliseconds(50);
// Largest message part accepted: a request's JSON or one frame / transaction is far smaller, and a peer
// cannot make the harness allocate without bound before its request is even checked.
constexpr int64_t kMaxMessageBytes = int64_t{64} << 20;

// A `protocol` or `argument` failure: the request did nothing and the reply carries only the error.
struct RequestError {
    const char* kind;
    std::string message;
};
[[noreturn]] void protocolError(const std::string& m) { throw RequestError{"protocol", m}; }
[[noreturn]] void argumentError(const std::string& m) { throw RequestError{"argument", m}; }

const Json& field(const Json& req, const char* key) {
    const Json* v = req.get(key);
    if (!v) protocolError(std::string("missing field '") + key + "'");
    return *v;
}

uint64_t uintField(const Json& req, const char* key, std::optional<uint64_t> fallback = std::nullopt) {
    const Json* v = req.get(key);
    if (!v && fallback) return *fallback;
    if (!v) protocolError(std::string("missing field '") + key + "'");
    if (!v->isUint()) protocolError(std::string("field '") + key + "' must be a non-negative integer");
    return static_cast<uint64_t>(v->number);
}

const std::string& stringField(const Json& req, const char* key) {
    const Json& v = field(req, key);
    if (v.type != Json::Type::String) protocolError(std::string("field '") + key + "' must be a string");
    return v.string;
}

// A cycle count, at most kMaxCyclesPerRequest: no request runs unbounded.
uint64_t cyclesField(const Json& req, const char* key, std::optional<uint64_t> fallback = std::nullopt) {
    const uint64_t cycles = uintField(req, key, fallback);
    if (cycles > kMaxCyclesPerRequest)
        argumentError(std::string("field '") + key + "': at most " + std::to_string(kMaxCyclesPerRequest) +
                      " cycles per request (split longer runs into several requests)");
    return cycles;
}

bool boolField(const Json& req, const char* key, bool fallback) {
    const Json* v = req.get(key);
    if (!v) return fallback;
    if (v->type != Json::Type::Bool) protocolError(std::string("field '") + key + "' must be true or false");
    return v->boolean;
}

class Server {
public:
    Server(Sim& sim, std::string secret, fs::path wavesDir)
        : sim_(sim), secret_(std::move(secret)), wavesDir_(std::move(wavesDir)) {}

    struct Outcome {
        bool bye = false;         // the bye op
        bool authorized = false;  // the request carried the secret
    };
    // Handles one request; returns the reply parts (JSON first).
    std::vector<zmq::message_t> handle(const std::string& text, std::vector<zmq::message_t>& bins, Outcome& outcome);

    const std::string& secret() const { return secret_; }
    // Why the watchdog stopped the request in progress (the `interrupted` error's message).
    std::string stopReason;

private:
    struct Failure {
        const char* kind;
        std::string message;
        std::string assertion;
    };

    // Each op writes its result fields into `out` (an open object) and may fail with `limit`.
    using Op = std::optional<Failure> (Server::*)(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> hello(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> reset(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> step(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> peek(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> poke(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> bind(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> pause(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> send(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> recv(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> run(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> trace(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> status(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> bye(const Json&, std::vector<zmq::message_t>&, JsonWriter&);
    std::optional<Failure> clear(const Json&, std::vector<zmq::message_t>&, JsonWriter&);

    static Op lookup(const std::string& op, bool& advancesClock);

    const Port& portNamed(const std::string& name) const;
    Bfm& bfmNamed(const std::string& name) const;
    std::vector<const Port*> peekList(const Json& spec) const;  // `true` or an array of names
    std::vector<std::pair<const Port*, Bytes>> pokeList(const Json& values) const;
    void writeValues(JsonWriter& out, const std::vector<const Port*>& ports) const;
    std::vector<Condition> conditions(const Json& until) const;
    bool authorized(const Json& req) const;
    fs::path tracePath(const std::string& file) const;

    Sim& sim_;
    const std::string secret_;
    const fs::path wavesDir_;
    std::vector<zmq::message_t> replyBins_;  // binary parts of the reply being built
};

Server::Op Server::lookup(const std::string& op, bool& advancesClock) {
    struct Entry {
        const char* name;
        Op fn;
        bool advancesClock;
    };
    static const Entry table[] = {
        {"hello", &Server::hello, false}, {"reset", &Server::reset, true},   {"step", &Server::step, true},
        {"peek", &Server::peek, false},   {"poke", &Server::poke, false},    {"bind", &Server::bind, false},
        {"pause", &Server::pause, false}, {"send", &Server::send, false},    {"recv", &Server::recv, false},
        {"run", &Server::run, true},      {"trace", &Server::trace, false},  {"status", &Server::status, false},
        {"bye", &Server::bye, false},     {"clear", &Server::clear, false},
    };
    for (const Entry& e : table)
        if (op == e.name) {
            advancesClock = e.advancesClock;
            return e.fn;
        }
    return nullptr;
}

// Compares in time independent of where the first difference is.
bool Server::authorized(const Json& req) const {
    const Json* given = req.get("secret");
    if (!given || given->type != Json::Type::String || given->string.size() != secret_.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < secret_.size(); ++i) diff |= static_cast<unsigned char>(given->string[i] ^ secret_[i]);
    return diff == 0;
}

std::vector<zmq::message_t> Server::handle(const std::string& text, std::vector<zmq::message_t>& bins,
                                           Outcome& outcome) {
    Json req;
    Json id;  // null until the request's own id is known
    JsonWriter result;
    result.beginObject();
    std::optional<Failure> failure;
    replyBins_.clear();
    try {
        const std::string err = parseJson(text, req);
        if (!err.empty()) protocolError("malformed JSON: " + err);
        if (req.type != Json::Type::Object) protocolError("a request must be a JSON object");
        if (const Json* given = req.get("id"); given && given->isUint()) id = *given;
        else protocolError("field 'id' must be a non-negative integer");
        if (!authorized(req))
            throw RequestError{"denied", "missing or wrong secret (the harness prints it on its READY line)"};
        outcome.authorized = true;
        const std::string& opName = stringField(req, "op");
        bool advancesClock = false;
        const Op op = lookup(opName, advancesClock);
        if (!op) protocolError("unknown op '" + opName + "'");
        if (advancesClock && sim_.finished()) {
            failure = Failure{"finished", "the simulation called $finish", ""};
        } else {
            sim_.clearInterrupted();
            stopReason.clear();
            failure = (this->*op)(req, bins, result);
            outcome.bye = opName == "bye";
            if (sim_.interrupted())
                failure = Failure{"interrupted", "stopped after cycle " + std::to_string(sim_.cycle()) + ": " +
                                                     (stopReason.empty() ? "a signal to stop" : stopReason), ""};
        }
    } catch (const RequestError& e) {
        result = JsonWriter{};
        result.beginObject();
        replyBins_.clear();
        failure = Failure{e.kind, e.message, ""};
    } catch (const std::exception& e) {  // ArgumentError from the BFMs, or anything unforeseen
        result = JsonWriter{};
        result.beginObject();
        replyBins_.clear();
        failure = Failure{"argument", e.what(), ""};
    }
    result.endObject();

    // An assertion or $finish during the request outranks a `limit`.
    if (sim_.hasEvent()) {
        SimEvent ev = sim_.takeEvent();
        const bool assertion = ev.kind == SimEvent::Kind::Assertion;
        failure = Failure{assertion ? "assertion" : "finished", ev.message, assertion ? ev.assertion : ""};
    }

    JsonWriter reply;
    reply.beginObject().key("id").value(id).key("ok").value(!failure).key("cycle").value(sim_.cycle());
    if (failure) {
        reply.key("error").beginObject().key("kind").value(failure->kind).key("message").value(failure->message);
        if (!failure->assertion.empty()) reply.key("assertion").value(failure->assertion);
        reply.endObject();
    }
    std::string json = reply.str();
    const std::string& fields = result.str();  // "{...}": splice its members into the reply
    if (fields.size() > 2) json += "," + fields.substr(1, fields.size() - 2);
    json += "}";

    std::vector<zmq::message_t> parts;
    parts.emplace_back(json.data(), json.size());
    for (auto& b : replyBins_) parts.push_back(std::move(b));
    replyBins_.clear();
    return parts;
}

const Port& Server::portNamed(const std::string& name) const {
    const Port* p = sim_.port(name);
    if (!p) argumentError("no port named '" + name + "'");
    return *p;
}

Bfm& Server::bfmNamed(const std::string& name) const {
    Bfm* b = sim_.bfm(name);
    if (!b) argumentError("no BFM named '" + name + "'");
    return *b;
}

std::vector<const Port*> Server::peekList(const Json& spec) const {
    std::vector<const Port*> ports;
    if (spec.type == Json::Type::Bool && spec.boolean) {
        for (const Port& p : sim_.model().ports()) ports.push_back(&p);
    } else if (spec.type == Json::Type::Array) {
        for (const Json& n : spec.array) {
            if (n.type != Json::Type::String) protocolError("port names must be strings");
            ports.push_back(&portNamed(n.string));
        }
    } else {
        protocolError("expected true or an array of port names");
    }
    return ports;
}

std::vector<std::pair<const Port*, Bytes>> Server::pokeList(const Json& values) const {
    if (values.type != Json::Type::Object) protocolError("poke values must be an object {name: hex}");
    std::vector<std::pair<const Port*, Bytes>> pokes;
    for (const auto& [name, v] : values.object) {
        const Port& p = portNamed(name);
        if (p.dir != Dir::In) argumentError("port '" + name + "' is an output");
        if (v.type != Json::Type::String) argumentError("value of '" + name + "' must be a hex string");
        Bytes bytes;
        const std::string err = parseHex(v.string, p.width, bytes);
        if (!err.empty()) argumentError(name + ": " + err);
        pokes.emplace_back(&p, std::move(bytes));
    }
    return pokes;
}

void Server::writeValues(JsonWriter& out, const std::vector<const Port*>& ports) const {
    out.key("values").beginObject();
    for (const Port* p : ports) out.key(p->name).value(toHex(*p));
    out.endObject();
}

std::optional<Server::Failure> Server::hello(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    const uint64_t version = uintField(req, "version");
    if (version != kProtocolVersion)
        protocolError("protocol version " + std::to_string(version) + " requested, harness speaks " +
                      std::to_string(kProtocolVersion));
    out.key("version").value(kProtocolVersion).key("top").value(sim_.model().topName());
    out.key("ports").beginArray();
    for (const Port& p : sim_.model().ports())
        out.beginObject()
            .key("name").value(p.name)
            .key("dir").value(p.dir == Dir::In ? "in" : "out")
            .key("width").value(p.width)
            .endObject();
    out.endArray();
    out.key("clock").value(sim_.clockName()).key("reset").value(sim_.resetName());
    return std::nullopt;
}

std::optional<Server::Failure> Server::reset(const Json& req, std::vector<zmq::message_t>&, JsonWriter&) {
    const uint64_t cycles = cyclesField(req, "cycles", 4);
    sim_.reset(cycles, boolField(req, "bfms", true));
    return std::nullopt;
}

std::optional<Server::Failure> Server::step(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    const uint64_t cycles = cyclesField(req, "cycles", 1);
    const Json* pokeSpec = req.get("poke");
    const Json* peekSpec = req.get("peek");
    const auto pokes = pokeSpec ? pokeList(*pokeSpec) : std::vector<std::pair<const Port*, Bytes>>{};
    const auto peeks = peekSpec ? peekList(*peekSpec) : std::vector<const Port*>{};
    for (const auto& [p, bytes] : pokes) writeBytes(*p, bytes.data(), bytes.size());
    sim_.step(cycles);
    if (peekSpec) writeValues(out, peeks);
    return std::nullopt;
}

std::optional<Server::Failure> Server::peek(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    writeValues(out, peekList(field(req, "names")));
    return std::nullopt;
}

std::optional<Server::Failure> Server::poke(const Json& req, std::vector<zmq::message_t>&, JsonWriter&) {
    for (const auto& [p, bytes] : pokeList(field(req, "values"))) writeBytes(*p, bytes.data(), bytes.size());
    sim_.settle();
    return std::nullopt;
}

std::optional<Server::Failure> Server::bind(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    const std::string& kind = stringField(req, "kind");
    const std::string& prefix = stringField(req, "prefix");
    const std::string& name = stringField(req, "name");
    std::vector<std::string> fields;
    if (const Json* f = req.get("fields")) {
        if (f->type != Json::Type::Array) protocolError("fields must be an array of names");
        for (const Json& n : f->array) {
            if (n.type != Json::Type::String) protocolError("fields must be an array of names");
            fields.push_back(n.string);
        }
    }
    if (sim_.bfm(name)) argumentError("a BFM named '" + name + "' already exists");

    const size_t underscore = kind.find('_');
    const std::string family = kind.substr(0, underscore);
    const std::string roleName = underscore == std::string::npos ? "" : kind.substr(underscore + 1);
    Role role;
    if (roleName == "source") role = Role::Source;
    else if (roleName == "sink") role = Role::Sink;
    else if (roleName == "monitor") role = Role::Monitor;
    else argumentError("unknown BFM kind '" + kind + "'");
    std::unique_ptr<Bfm> bfm;
    if (family == "axis") {
        if (!fields.empty()) argumentError("fields only apply to vr_* BFMs");
        bfm = makeAxisBfm(role, prefix, sim_.portIndex());
    } else if (family == "vr") {
        bfm = makeVrBfm(role, prefix, fields, sim_.model().ports(), sim_.portIndex());
    } else {
        argumentError("unknown BFM kind '" + kind + "'");
    }
    // Two BFMs driving one port would overwrite each other every cycle.
    for (const auto& [other, b] : sim_.bfms())
        for (const Port* p : bfm->driven())
            if (std::find(b->driven().begin(), b->driven().end(), p) != b->driven().end())
                argumentError("port '" + p->name + "' is already driven by BFM '" + other + "'");
    out.key("signals").beginArray();
    for (const std::string& s : bfm->signals()) out.value(s);
    out.endArray();
    if (family == "vr") {
        out.key("fields").beginArray();
        for (const std::string& f : bfm->fieldNames()) out.value(f);
        out.endArray();
    }
    sim_.addBfm(name, std::move(bfm));
    sim_.settle();  // the BFM drove its valid/ready low
    return std::nullopt;
}

std::optional<Server::Failure> Server::pause(const Json& req, std::vector<zmq::message_t>&, JsonWriter&) {
    Bfm& b = bfmNamed(stringField(req, "name"));
    b.setPause(stringField(req, "pattern"));
    return std::nullopt;
}

std::optional<Server::Failure> Server::send(const Json& req, std::vector<zmq::message_t>& bins, JsonWriter& out) {
    Bfm& b = bfmNamed(stringField(req, "name"));
    if (b.role() != Role::Source) argumentError("send needs a source BFM");
    std::vector<Bytes> items;
    for (const auto& m : bins) {
        const auto* p = static_cast<const uint8_t*>(m.data());
        items.emplace_back(p, p + m.size());
    }
    b.send(std::move(items));
    out.key("queued").value(b.queued());
    return std::nullopt;
}

std::optional<Server::Failure> Server::recv(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    Bfm& b = bfmNamed(stringField(req, "name"));
    if (b.role() == Role::Source) argumentError("recv needs a sink or monitor BFM");
    auto& items = b.items();
    const uint64_t max = uintField(req, "max", items.size());
    out.key("items").beginArray();
    for (uint64_t i = 0; i < max && !items.empty(); ++i) {
        Item& it = items.front();
        out.beginObject().key("start").value(it.start).key("end").value(it.end).endObject();
        replyBins_.emplace_back(it.data.data(), it.data.size());
        items.pop_front();
    }
    out.endArray();
    return std::nullopt;
}

std::vector<Condition> Server::conditions(const Json& until) const {
    if (until.type != Json::Type::Array) protocolError("until must be an array of conditions");
    std::vector<Condition> conds;
    for (const Json& c : until.array) {
        if (c.type != Json::Type::Object || c.object.size() != 1)
            protocolError("each until condition is an object with one of idle, received, signal");
        const auto& [kind, arg] = c.object.front();
        Condition cond{};
        if (kind == "idle") {
            cond.type = Condition::Type::Idle;
            if (arg.type == Json::Type::String) {
                cond.bfm = &bfmNamed(arg.string);
                if (cond.bfm->role() != Role::Source) argumentError("idle names a source BFM");
            } else if (arg.type != Json::Type::Bool || !arg.boolean) {
                protocolError("idle condition must be true or a source BFM's name");
            }
        } else if (kind == "received") {
            if (arg.type != Json::Type::Object || arg.object.size() != 1 || !arg.object.front().second.isUint())
                protocolError("received condition must be {name: count}");
            cond.type = Condition::Type::Received;
            cond.bfm = &bfmNamed(arg.object.front().first);
            if (cond.bfm->role() == Role::Source) argumentError("received needs a sink or monitor BFM");
            cond.count = static_cast<size_t>(arg.object.front().second.number);
        } else if (kind == "signal") {
            cond.type = Condition::Type::Signal;
            cond.port = &portNamed(stringField(arg, "name"));
            const std::string err = parseHex(stringField(arg, "value"), cond.port->width, cond.value);
            if (!err.empty()) argumentError(cond.port->name + ": " + err);
        } else {
            protocolError("unknown until condition '" + kind + "'");
        }
        conds.push_back(std::move(cond));
    }
    return conds;
}

std::optional<Server::Failure> Server::run(const Json& req, std::vector<zmq::message_t>&, JsonWriter& out) {
    const uint64_t maxCycles = cyclesField(req, "maxCycles");
    const Json* until = req.get("until");
    const std::vector<Condition> conds = until ? conditions(*until) : std::vector<Condition>{};
    std::vector<size_t> met;
    const uint64_t cycles = sim_.runUntil(maxCycles, conds, met);
    const bool limit = !conds.empty() && met.empty();
    out.key("cycles").value(cycles).key("reason").value(limit ? "limit" : "done");
    out.key("met").beginArray();
    for (const size_t i : met) out.value(static_cast<uint64_t>(i));
    out.endArray();
    if (limit) return Failure{"limit", "no until condition held within " + std::to_string(maxCycles) + " cycles", ""};
    return std::nullopt;
}

// A trace file inside the waves directory (relative paths are relative to it): a client cannot make the
// harness write anywhere else, through `..` or a symbolic link either.
fs::path Server::tracePath(const std::string& file) const {
    std::error_code err;
    const fs::path path = fs::weakly_canonical(wavesDir_ / file, err);
    const auto [inDir, inPath] = std::mismatch(wavesDir_.begin(), wavesDir_.end(), path.begin(), path.end());
    if (err || inDir != wavesDir_.end() || inPath == path.end())
        argumentError("trace file '" + file + "' is outside the waves directory " + wavesDir_.string());
    if (fs::is_symlink(fs::symlink_status(path, err))) argumentError("trace file '" + file + "' is a symbolic link");
    return path;
}

std::optional<Server::Failure> Server::trace(const Json& req, std::vector<zmq::message_t>&, JsonWriter&) {
    const Json& file = field(req, "file");
    if (file.type == Json::Type::Null) {
        sim_.traceClose();
    } else if (file.type == Json::Type::String && !file.string.empty()) {
        sim_.traceOpen(tracePath(file.string).string());
    } else {
        protocolError("file must be a path or null");
    }
    return std::nullopt;
}

std::optional<Server::Failure> Server::status(const Json&, std::vector<zmq::message_t>&, JsonWriter& out) {
    out.key("bfms").beginObject();
    for (const auto& [name, b] : sim_.bfms())
        out.key(name).beginObject()
            .key("queued").value(b->queued())
            .key("received").value(b->items().size())
            .key("busy").value(b->busy())
            .endObject();
    out.endObject();
    return std::nullopt;
}

std::optional<Server::Failure> Server::clear(const Json& req, std::vector<zmq::message_t>&, JsonWriter&) {
    Bfm& b = bfmNamed(stringField(req, "name"));
    // A source mid-frame must finish it: AXI-Stream forbids dropping valid before ready.
    if (b.role() == Role::Source && b.busy())
        argumentError("cannot clear source '" + stringField(req, "name") + "' in the middle of a frame");
    b.clear();
    return std::nullopt;
}

std::optional<Server::Failure> Server::bye(const Json&, std::vector<zmq::message_t>&, JsonWriter&) {
    return std::nullopt;
}

// A fresh random secret (hex): every request must carry it.
std::string makeSecret() {
    uint8_t bytes[16];
    if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (const uint8_t b : bytes) (hex += digits[b >> 4]) += digits[b & 15];
    return hex;
}

// The default endpoint's directory: created 0700 (mkdtemp), so only this user reaches the socket in it;
// removed with everything in it when the server returns (or unwinds).
class PrivateDir {
public:
    PrivateDir() = default;
    PrivateDir(const PrivateDir&) = delete;
    PrivateDir& operator=(const PrivateDir&) = delete;
    ~PrivateDir() {
        std::error_code ignored;
        if (!path_.empty()) fs::remove_all(path_, ignored);
    }
    const std::string& create() {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/ddp-harness-XXXXXX";
        if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp " + templ + ": " + std::strerror(errno));
        path_ = templ;
        return path_;
    }

private:
    std::string path_;
};

// Reasons to stop, checked between requests and (through the Sim's watchdog) during long ones: a signal,
// EOF on stdin, the parent's death; and which client connections have closed (ZeroMQ's monitor events,
// matched to a request by the file descriptor it arrived on).
class Lifeline {
public:
    Lifeline(const ServerOptions& o, zmq::socket_t& monitor) : o_(o), monitor_(monitor) {}

    // Why the harness must exit now, or empty.
    std::string exitReason() {
        if (g_stopRequested) return "a signal to stop";
        if (o_.parent != 0 && getppid() != o_.parent) return "its parent exited";
        if (o_.watchStdin && stdinClosed()) return "EOF on stdin";
        return "";
    }

    void drainPeers() {
        zmq::message_t event, address;
        while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
            (void)monitor_.recv(address);  // every event has a second part: the endpoint
            uint16_t kind;
            uint32_t fd;
            if (event.size() < 6) continue;
            std::memcpy(&kind, event.data(), 2);
            std::memcpy(&fd, static_cast<const char*>(event.data()) + 2, 4);
            if (kind == ZMQ_EVENT_DISCONNECTED) closed_.insert(static_cast<int>(fd));
            else closed_.erase(static_cast<int>(fd));  // accepted: a new connection on a reused descriptor
        }
    }

    bool closed(int fd) const { return fd >= 0 && closed_.count(fd) > 0; }

private:
    bool stdinClosed() {
        if (stdinEof_) return true;
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0) return false;
        char buf[256];
        stdinEof_ = read(STDIN_FILENO, buf, sizeof buf) <= 0;  // what the parent writes is ignored
        return stdinEof_;
    }

    const ServerOptions& o_;
    zmq::socket_t& monitor_;
    std::unordered_set<int> closed_;
    bool stdinEof_ = false;
};

}  // namespace

int serve(Sim& sim, const ServerOptions& options, FILE* out) {
    PrivateDir privateDir;  // outlives the sockets: it is removed after they closed
    const std::string endpoint =
        options.endpoint.empty() ? "ipc://" + privateDir.create() + "/socket" : options.endpoint;
    std::error_code err;
    const fs::path wavesDir = fs::weakly_canonical(fs::absolute(options.wavesDir), err);
    if (err) throw std::runtime_error("waves directory " + options.wavesDir + ": " + err.message());
    Server server(sim, makeSecret(), wavesDir);

    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::router);
    socket.set(zmq::sockopt::linger, 1000);  // let the last reply (e.g. to bye) go out before exit
    socket.set(zmq::sockopt::maxmsgsize, kMaxMessageBytes);
    if (zmq_socket_monitor(socket.handle(), "inproc://peers", ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
        throw zmq::error_t();
    zmq::socket_t monitor(context, zmq::socket_type::pair);
    monitor.connect("inproc://peers");
    socket.bind(endpoint);
    Lifeline life(options, monitor);

    std::fprintf(out, "READY %s %s\n", socket.get(zmq::sockopt::last_endpoint).c_str(), server.secret().c_str());
    std::fflush(out);

    auto lastRequest = Clock::now();
    int requestFd = -1;  // the connection the request in progress came on
    auto lastWatch = Clock::now();
    sim.setWatchdog([&] {
        const auto now = Clock::now();
        if (now - lastWatch < kWatchInterval) return false;
        lastWatch = now;
        server.stopReason = life.exitReason();
        if (server.stopReason.empty()) {
            life.drainPeers();
            if (life.closed(requestFd)) server.stopReason = "the client disconnected";
        }
        return !server.stopReason.empty();
    });
    struct WatchdogOff {  // the watchdog refers to this frame's locals
        Sim& sim;
        ~WatchdogOff() { sim.setWatchdog(nullptr); }
    } watchdogOff{sim};

    for (;;) {
        zmq_pollitem_t items[2] = {{socket.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, STDIN_FILENO, ZMQ_POLLIN, 0}};
        const int rc = zmq_poll(items, options.watchStdin ? 2 : 1, kPollMillis);
        if (rc < 0 && zmq_errno() != EINTR) throw zmq::error_t();
        if (!life.exitReason().empty()) return 0;
        // Only requests with the secret keep the harness alive: a stranger's cannot hold it open.
        const std::chrono::duration<double> idle = Clock::now() - lastRequest;
        if (options.idleTimeoutSeconds > 0 && idle.count() > options.idleTimeoutSeconds) {
            std::fprintf(stderr, "harness: idle for %.0f s, exiting\n", idle.count());
            return 0;
        }
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(socket, std::back_inserter(parts), zmq::recv_flags::dontwait)) continue;
        if (parts.size() < 2) continue;  // no JSON part: nothing to answer
        const auto arrived = Clock::now();
        life.drainPeers();
        requestFd = zmq_msg_get(parts[1].handle(), ZMQ_SRCFD);
        zmq::message_t routingId = std::move(parts[0]);
        const std::string text = parts[1].to_string();
        std::vector<zmq::message_t> bins(std::make_move_iterator(parts.begin() + 2),
                                         std::make_move_iterator(parts.end()));
        Server::Outcome outcome;
        std::vector<zmq::message_t> reply = server.handle(text, bins, outcome);
        if (outcome.authorized) lastRequest = arrived;
        // A client that left gets no reply; the idle timeout then runs from its request.
        if (!life.closed(requestFd)) {
            reply.insert(reply.begin(), std::move(routingId));
            zmq::send_multipart(socket, reply);
        }
        if (outcome.bye || !life.exitReason().empty()) return 0;
    }
}
