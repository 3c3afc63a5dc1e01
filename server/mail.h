// One RFC 5322 message, parsed with GMime into the engine's inbound_mail
// (engine/channels.h): headers and subject decoded (RFC 2047), the text in
// whatever charset each part declares converted to UTF-8 (GB2312, GBK,
// GB18030, Big5, ISO-8859-x, …), text/html turned into text when there is
// no text/plain, attachments decoded (RFC 2231 file names).
#pragma once

#include <string>
#include <string_view>

#include "engine/channels.h"
#include "engine/result.h"

namespace plaint::server {

// Returns `invalid` when the bytes are not a message at all.
engine::Result<engine::inbound_mail> parse_mail(std::string_view raw);

// The text of an HTML document: no tags, no script or style, entities
// decoded, paragraphs and line breaks kept as new lines.
std::string html_to_text(std::string_view html);

}  // namespace plaint::server
