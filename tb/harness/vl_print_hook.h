// Force-included into every C++ file of the build (-include): routes Verilator's printing through the
// harness, which writes it to stderr and keeps the text so an assertion reply can quote it.
#pragma once
#include <cstdarg>

int harnessPrintf(const char* format, ...) __attribute__((format(printf, 1, 2)));
int harnessVprintf(const char* format, va_list args);

#define VL_PRINTF harnessPrintf
#define VL_VPRINTF harnessVprintf
