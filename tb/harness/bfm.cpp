#include "bfm.h"

void Bfm::setPause(const std::string& pattern) {
    std::vector<bool> bits;
    for (const char c : pattern) {
        if (c != '0' && c != '1') throw ArgumentError("pause pattern must contain only 0 and 1");
        bits.push_back(c == '1');
    }
    pause_ = std::move(bits);
    pauseAt_ = 0;
}

const Port* Bfm::bindPort(const PortIndex& ports, const std::string& name, std::optional<Dir> dir,
                          bool required) {
    const auto it = ports.find(name);
    if (it == ports.end()) {
        if (required) throw ArgumentError("no port " + name);
        return nullptr;
    }
    if (dir && it->second->dir != *dir)
        throw ArgumentError("port " + name + " must be an " + (*dir == Dir::In ? "input" : "output"));
    signals_.push_back(name);
    if (dir == Dir::In) driven_.push_back(it->second);
    return it->second;
}
