// The Verilated top seen through a generated port table, so the rest of the harness is generic.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

class VerilatedContext;
class VerilatedFstC;

enum class Dir { In, Out };
// Verilator's storage type for a port: CData (<=8 bits), SData (<=16), IData (<=32), QData (<=64),
// WData (array of 32-bit words, least significant word first).
enum class Kind { C, S, I, Q, W };

struct Port {
    std::string name;
    Dir dir;
    int width;
    Kind kind;
    void* ptr;  // points into the model
};

class Model {
public:
    virtual ~Model() = default;
    virtual void eval() = 0;
    virtual void trace(VerilatedFstC* tfp, int levels) = 0;
    virtual void final() = 0;
    virtual const char* topName() const = 0;
    const std::vector<Port>& ports() const { return ports_; }

protected:
    std::vector<Port> ports_;
};

// Defined in the generated ports_gen.cpp.
std::unique_ptr<Model> makeModel(VerilatedContext* ctx);
