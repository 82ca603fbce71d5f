// A small JSON reader and writer: enough for the co-simulation protocol, no dependency.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    Type type = Type::Null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<Json> array;
    std::vector<std::pair<std::string, Json>> object;

    // Member of an object, or nullptr when absent (or when this is not an object).
    const Json* get(const std::string& key) const;
    bool isUint() const;  // a non-negative integral number
};

// Parses one JSON document; returns an error message, empty on success.
std::string parseJson(const std::string& text, Json& out);

// Streaming writer; commas are inserted automatically.
class JsonWriter {
public:
    JsonWriter& beginObject();
    JsonWriter& endObject();
    JsonWriter& beginArray();
    JsonWriter& endArray();
    JsonWriter& key(const std::string& k);
    JsonWriter& value(const std::string& s);
    JsonWriter& value(const char* s) { return value(std::string(s)); }
    JsonWriter& value(uint64_t n);
    JsonWriter& value(int n) { return value(static_cast<uint64_t>(n)); }
    JsonWriter& value(double d);
    JsonWriter& value(bool b);
    JsonWriter& value(const Json& j);  // re-emits a parsed value (used to echo request ids)
    JsonWriter& null();
    const std::string& str() const { return out_; }

private:
    void separate();
    void quote(const std::string& s);
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written in it yet
    bool afterKey_ = false;
};
