// libFuzzer harness: the JSON body reader of the API (server/api_util.h,
// detail::body) and every accessor the handlers use on it.
//
// Property: any body is either refused with a message or read; nothing
// throws, crashes or recurses without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/api_util.h"

using plaint::server::detail::body;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The union of the fields the handlers take (tickets, events, customers).
  auto b = body::parse(text, {"customer", "subject", "description", "channel", "category", "priority", "workflow",
                              "event", "note", "fields", "expected_version", "id", "name", "tier", "email", "phone",
                              "attributes"});
  if (!b) return 0;
  for (const char* key : {"customer", "subject", "event", "note", "name", "tier"}) (void)b->str(key);
  (void)b->str("id", true);
  (void)b->integer("expected_version");
  (void)b->object("attributes").dump();
  (void)b->fields("fields");
  (void)b->status();
  return 0;
}
