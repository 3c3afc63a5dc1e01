#include "server/mail.h"

#include <gmime/gmime.h>

#include <cctype>
#include <memory>
#include <mutex>

#include "engine/audit.h"
#include "engine/utf8.h"

namespace plaint::server {

namespace {

using engine::errc;
using engine::make_error;

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct gobject_unref {
  void operator()(gpointer p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using gptr = std::unique_ptr<T, gobject_unref>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string header(GMimeObject* o, const char* name) {
  const char* v = g_mime_object_get_header(o, name);
  return v ? trimmed(v) : std::string();
}

// Text that is certainly UTF-8: a part whose charset could not be converted
// keeps only its valid sequences.
std::string as_utf8(std::string text) {
  if (engine::valid_utf8(text)) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = 1;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    if (i + len <= text.size() && engine::valid_utf8(std::string_view(text).substr(i, len))) {
      out.append(text, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

std::string crlf_to_lf(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out.push_back(s[i]);
  return out;
}

std::string part_bytes(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (!content) return {};
  gptr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, out.get()) < 0) return {};
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

struct walk_state {
  std::string plain;
  std::string html;
  std::vector<engine::mail_attachment> attachments;
  bool delivery_report = false;
};

void visit(GMimeObject* /*parent*/, GMimeObject* part, gpointer data) {
  auto& w = *static_cast<walk_state*>(data);
  GMimeContentType* ct = g_mime_object_get_content_type(part);
  if (ct && (g_mime_content_type_is_type(ct, "multipart", "report") ||
             g_mime_content_type_is_type(ct, "message", "delivery-status")))
    w.delivery_report = true;
  if (!GMIME_IS_PART(part)) return;  // multiparts are walked into; message/rfc822 is left as it is
  GMimePart* p = GMIME_PART(part);
  const bool text_plain = ct && g_mime_content_type_is_type(ct, "text", "plain");
  const bool text_html = ct && g_mime_content_type_is_type(ct, "text", "html");
  if (!g_mime_part_is_attachment(p) && GMIME_IS_TEXT_PART(part) && (text_plain || text_html)) {
    std::string& into = text_plain ? w.plain : w.html;
    if (into.empty()) {
      char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
      if (text) {
        into = as_utf8(crlf_to_lf(text));
        g_free(text);
      }
      if (!into.empty()) return;
    }
  }
  if (text_plain || text_html) {
    if (!g_mime_part_is_attachment(p) && !g_mime_part_get_filename(p)) return;  // a second body: not a file
  }
  engine::mail_attachment a;
  const char* name = g_mime_part_get_filename(p);
  a.name = as_utf8(name ? name : "");
  if (ct) {
    char* type = g_mime_content_type_get_mime_type(ct);
    if (type) {
      a.content_type = lower(type);
      g_free(type);
    }
  }
  a.data = part_bytes(p);
  w.attachments.push_back(std::move(a));
}

std::string decode_entity(std::string_view name) {
  if (name.empty()) return {};
  if (name[0] == '#') {
    long code = 0;
    try {
      code = name.size() > 1 && (name[1] == 'x' || name[1] == 'X') ? std::stol(std::string(name.substr(2)), nullptr, 16)
                                                                    : std::stol(std::string(name.substr(1)));
    } catch (...) {
      return {};
    }
    if (code <= 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return {};
    std::string out;
    engine::utf8_append(out, static_cast<char32_t>(code));
    return out;
  }
  static const std::pair<const char*, const char*> named[] = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
      {"euro", "€"}, {"copy", "©"}, {"reg", "®"}, {"hellip", "…"}, {"mdash", "—"}, {"ndash", "–"},
      {"lsquo", "‘"}, {"rsquo", "’"}, {"ldquo", "“"}, {"rdquo", "”"}};
  for (const auto& [n, v] : named)
    if (name == n) return v;
  return {};
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  std::size_t i = 0;
  auto newline = [&out] {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
  };
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const std::size_t end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string tag = lower(html.substr(i + 1, end - i - 1));
      const bool closing = !tag.empty() && tag[0] == '/';
      std::string name;
      for (std::size_t k = closing ? 1 : 0; k < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[k])) || tag[k] == '!'); ++k)
        name += tag[k];
      if (tag.rfind("!--", 0) == 0) {  // a comment
        const std::size_t close = html.find("-->", i + 4);
        i = close == std::string_view::npos ? html.size() : close + 3;
        continue;
      }
      if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
        // Skipped with everything inside, up to the matching end tag.
        const std::string end_tag = "</" + name;
        std::size_t close = i;
        for (;;) {
          close = html.find('<', close + 1);
          if (close == std::string_view::npos) break;
          if (lower(html.substr(close, end_tag.size())) == end_tag) break;
        }
        if (close == std::string_view::npos) break;
        const std::size_t gt = html.find('>', close);
        i = gt == std::string_view::npos ? html.size() : gt + 1;
        continue;
      }
      if (name == "br" || name == "p" || name == "div" || name == "li" || name == "tr" || name == "h1" ||
          name == "h2" || name == "h3" || name == "blockquote" || name == "table")
        newline();
      if (!closing && name == "p" && !out.empty()) newline();
      i = end + 1;
      continue;
    }
    if (c == '&') {
      const std::size_t semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        const std::string decoded = decode_entity(html.substr(i + 1, semi - i - 1));
        if (!decoded.empty()) {
          out += decoded;
          i = semi + 1;
          continue;
        }
      }
      out.push_back('&');
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out.push_back(' ');
      ++i;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  // At most one blank line in a row, no spaces at line ends.
  std::string tidy;
  int blank = 0;
  std::size_t at = 0;
  while (at <= out.size()) {
    std::size_t end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    std::string line = trimmed(std::string_view(out).substr(at, end - at));
    if (line.empty()) {
      if (++blank == 1 && !tidy.empty()) tidy += '\n';
    } else {
      blank = 0;
      tidy += line + '\n';
    }
    if (end == out.size()) break;
    at = end + 1;
  }
  return trimmed(tidy);
}

engine::Result<engine::inbound_mail> parse_mail(std::string_view raw) {
  init_gmime();
  if (raw.empty()) return make_error(errc::invalid, "the message is empty");
  gptr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  gptr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  gptr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) return make_error(errc::invalid, "the input is not an RFC 5322 message: it has no header");
  GMimeObject* top = GMIME_OBJECT(msg.get());

  engine::inbound_mail m;
  if (const char* id = g_mime_message_get_message_id(msg.get())) m.message_id = as_utf8(trimmed(id));
  if (InternetAddressList* from = g_mime_message_get_from(msg.get());
      from && internet_address_list_length(from) > 0) {
    InternetAddress* a = internet_address_list_get_address(from, 0);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
      m.from_address = lower(as_utf8(addr ? addr : ""));
      const char* name = internet_address_get_name(a);
      m.from_name = as_utf8(trimmed(name ? name : ""));
    }
  }
  if (const char* subject = g_mime_message_get_subject(msg.get())) m.subject = as_utf8(trimmed(subject));
  for (const char* name : {"In-Reply-To", "References"}) {
    const std::string value = header(top, name);
    if (value.empty()) continue;
    GMimeReferences* refs = g_mime_references_parse(nullptr, value.c_str());
    if (!refs) continue;
    for (int i = 0; i < g_mime_references_length(refs); ++i)
      if (const char* id = g_mime_references_get_message_id(refs, i)) m.references.push_back(as_utf8(id));
    g_mime_references_free(refs);
  }
  m.auto_submitted = lower(header(top, "Auto-Submitted"));
  m.precedence = lower(header(top, "Precedence"));
  m.list_message = !header(top, "List-Id").empty() || !header(top, "List-Unsubscribe").empty();
  m.autoreply_header = !header(top, "X-Autoreply").empty() || !header(top, "X-Autorespond").empty();
  {
    const char* rp = g_mime_object_get_header(top, "Return-Path");
    m.null_return_path = rp && trimmed(rp) == "<>";
  }

  walk_state w;
  g_mime_message_foreach(msg.get(), visit, &w);
  m.delivery_report = w.delivery_report;
  m.text = !w.plain.empty() ? w.plain : html_to_text(w.html);
  m.attachments = std::move(w.attachments);
  // Stands in for a missing Message-ID: the same message delivered again
  // (with more Received lines) has the same sender, date, subject and text.
  const std::string date = header(top, "Date");
  m.fingerprint = engine::sha256_hex(m.from_address + '\n' + date + '\n' + m.subject + '\n' + m.text);
  return m;
}

}  // namespace plaint::server
