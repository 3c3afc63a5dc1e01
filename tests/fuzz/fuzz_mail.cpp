// libFuzzer harness: the mail parser (server/mail.cpp, GMime) and what the
// engine makes of a message before it touches the database
// (engine/channels.h: noise, the reply's quoted text, file names).
//
// Property: any bytes give either a refusal or a message whose every text
// is valid UTF-8 (subject, sender, text, names, references), and the
// engine's text functions keep it so; nothing crashes, leaks or hangs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/channels.h"
#include "engine/utf8.h"
#include "server/mail.h"

using namespace plaint;

namespace {
void must_be_utf8(std::string_view s) {
  if (!engine::valid_utf8(s)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto m = server::parse_mail(raw);
  if (!m) return 0;
  must_be_utf8(m->subject);
  must_be_utf8(m->from_address);
  must_be_utf8(m->from_name);
  must_be_utf8(m->text);
  must_be_utf8(m->message_id);
  for (const auto& r : m->references) must_be_utf8(r);
  for (const auto& a : m->attachments) {
    must_be_utf8(a.name);
    must_be_utf8(engine::clean_file_name(a.name));
  }
  (void)engine::noise_reason(*m, "support@desk.example");
  must_be_utf8(engine::trim_quoted(m->text));
  if (engine::valid_utf8(raw)) must_be_utf8(server::html_to_text(raw));
  return 0;
}
