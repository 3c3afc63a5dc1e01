// libFuzzer harness: the ISO 8601 parser (engine/time.cpp).
//
// Property: whatever parse_iso accepts is an instant plaint may store
// (years 0000–9999), and it prints as text that parses back to itself, so
// every stored instant round-trips through an export.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/time.h"

using namespace plaint::engine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto t = parse_iso(text);
  if (!t) return 0;
  if (!in_instant_range(*t)) std::abort();
  const auto again = parse_iso(format_iso(*t));
  if (!again || *again != *t) std::abort();
  (void)format_duration(*t);
  return 0;
}
