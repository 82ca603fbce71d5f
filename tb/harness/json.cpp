#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

const Json* Json::get(const std::string& key) const {
    for (const auto& [k, v] : object)
        if (k == key) return &v;
    return nullptr;
}

bool Json::isUint() const {
    return type == Type::Number && number >= 0 && number == std::floor(number) && number < 1.8e19;
}

namespace {
class Parser {
public:
    explicit Parser(const std::string& t) : t_(t) {}

    std::string document(Json& out) {
        if (!parseValue(out, 0)) return err_;
        skipSpace();
        if (pos_ != t_.size()) return fail("trailing characters");
        return "";
    }

private:
    static constexpr int kMaxDepth = 64;
    const std::string& t_;
    size_t pos_ = 0;
    std::string err_;

    std::string fail(const std::string& what) {
        err_ = what + " at offset " + std::to_string(pos_);
        return err_;
    }
    void skipSpace() {
        while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(const char* word) {
        const std::string w(word);
        if (t_.compare(pos_, w.size(), w) != 0) return false;
        pos_ += w.size();
        return true;
    }

    bool parseValue(Json& v, int depth) {
        if (depth > kMaxDepth) return fail("nesting too deep"), false;
        skipSpace();
        if (pos_ >= t_.size()) return fail("unexpected end"), false;
        const char c = t_[pos_];
        if (c == '{') return parseObject(v, depth);
        if (c == '[') return parseArray(v, depth);
        if (c == '"') return v.type = Json::Type::String, parseString(v.string);
        if (literal("true")) return v.type = Json::Type::Bool, v.boolean = true, true;
        if (literal("false")) return v.type = Json::Type::Bool, v.boolean = false, true;
        if (literal("null")) return v.type = Json::Type::Null, true;
        return parseNumber(v);
    }

    bool parseNumber(Json& v) {
        const char* start = t_.c_str() + pos_;
        char* end = nullptr;
        v.number = std::strtod(start, &end);
        if (end == start || !std::isfinite(v.number)) return fail("bad value"), false;
        pos_ += static_cast<size_t>(end - start);
        v.type = Json::Type::Number;
        return true;
    }

    bool parseHex4(unsigned& cp) {
        if (pos_ + 4 > t_.size()) return fail("bad \\u escape"), false;
        cp = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = t_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= static_cast<unsigned>(h - 'A' + 10);
            else return fail("bad \\u escape"), false;
        }
        return true;
    }

    static void appendUtf8(std::string& s, unsigned cp) {
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            s += static_cast<char>(0xe0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            s += static_cast<char>(0xf0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool parseString(std::string& s) {
        ++pos_;  // opening quote
        s.clear();
        while (pos_ < t_.size()) {
            const char c = t_[pos_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string"), false;
            if (c != '\\') {
                s += c;
                continue;
            }
            if (pos_ >= t_.size()) break;
            const char e = t_[pos_++];
            switch (e) {
                case '"': s += '"'; break;
                case '\\': s += '\\'; break;
                case '/': s += '/'; break;
                case 'b': s += '\b'; break;
                case 'f': s += '\f'; break;
                case 'n': s += '\n'; break;
                case 'r': s += '\r'; break;
                case 't': s += '\t'; break;
                case 'u': {
                    unsigned cp;
                    if (!parseHex4(cp)) return false;
                    // A surrogate pair encodes one code point above U+FFFF.
                    if (cp >= 0xd800 && cp < 0xdc00 && literal("\\u")) {
                        unsigned low;
                        if (!parseHex4(low)) return false;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    appendUtf8(s, cp);
                    break;
                }
                default: return fail("bad escape"), false;
            }
        }
        return fail("unterminated string"), false;
    }

    bool parseArray(Json& v, int depth) {
        ++pos_;
        v.type = Json::Type::Array;
        skipSpace();
        if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, true;
        for (;;) {
            v.array.emplace_back();
            if (!parseValue(v.array.back(), depth + 1)) return false;
            skipSpace();
            if (pos_ < t_.size() && t_[pos_] == ',') { ++pos_; continue; }
            if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, true;
            return fail("expected ',' or ']'"), false;
        }
    }

    bool parseObject(Json& v, int depth) {
        ++pos_;
        v.type = Json::Type::Object;
        std::unordered_set<std::string> keys;
        skipSpace();
        if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, true;
        for (;;) {
            skipSpace();
            if (pos_ >= t_.size() || t_[pos_] != '"') return fail("expected a key"), false;
            std::string key;
            if (!parseString(key)) return false;
            // A repeated key would be read as its first value by get(): refuse it instead.
            if (!keys.insert(key).second) return fail("duplicate key '" + key + "'"), false;
            skipSpace();
            if (pos_ >= t_.size() || t_[pos_] != ':') return fail("expected ':'"), false;
            ++pos_;
            v.object.emplace_back(std::move(key), Json{});
            if (!parseValue(v.object.back().second, depth + 1)) return false;
            skipSpace();
            if (pos_ < t_.size() && t_[pos_] == ',') { ++pos_; continue; }
            if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, true;
            return fail("expected ',' or '}'"), false;
        }
    }
};
}  // namespace

std::string parseJson(const std::string& text, Json& out) {
    out = Json{};
    return Parser(text).document(out);
}

void JsonWriter::separate() {
    if (afterKey_) {
        afterKey_ = false;
        return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
}

void JsonWriter::quote(const std::string& s) {
    out_ += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out_ += buf;
                } else {
                    out_ += c;
                }
        }
    }
    out_ += '"';
}

JsonWriter& JsonWriter::beginObject() { separate(); out_ += '{'; first_.push_back(true); return *this; }
JsonWriter& JsonWriter::endObject() { out_ += '}'; first_.pop_back(); return *this; }
JsonWriter& JsonWriter::beginArray() { separate(); out_ += '['; first_.push_back(true); return *this; }
JsonWriter& JsonWriter::endArray() { out_ += ']'; first_.pop_back(); return *this; }
JsonWriter& JsonWriter::key(const std::string& k) { separate(); quote(k); out_ += ':'; afterKey_ = true; return *this; }
JsonWriter& JsonWriter::value(const std::string& s) { separate(); quote(s); return *this; }
JsonWriter& JsonWriter::value(uint64_t n) { separate(); out_ += std::to_string(n); return *this; }
JsonWriter& JsonWriter::value(bool b) { separate(); out_ += b ? "true" : "false"; return *this; }
JsonWriter& JsonWriter::null() { separate(); out_ += "null"; return *this; }

JsonWriter& JsonWriter::value(double d) {
    separate();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", d);
    out_ += buf;
    return *this;
}

JsonWriter& JsonWriter::value(const Json& j) {
    switch (j.type) {
        case Json::Type::Null: return null();
        case Json::Type::Bool: return value(j.boolean);
        case Json::Type::Number:
            if (j.isUint()) return value(static_cast<uint64_t>(j.number));
            return value(j.number);
        case Json::Type::String: return value(j.string);
        case Json::Type::Array:
            beginArray();
            for (const auto& e : j.array) value(e);
            return endArray();
        case Json::Type::Object:
            beginObject();
            for (const auto& [k, v] : j.object) key(k).value(v);
            return endObject();
    }
    return *this;
}
