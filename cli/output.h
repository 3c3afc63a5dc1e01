// Printing for people and for scripts: one JSON document on stdout with
// --json, readable text otherwise; errors as one sentence on stderr.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"

namespace plaint::cli {

void print_json(const engine::json& j);
// Prints the error (text, or {"error":{"code","message"}} with json) to
// stderr and returns the exit code.
int print_error(const engine::Error& e, bool json);

// `history` is the newest part of the ticket's history (all of it when
// `earlier` is 0); `earlier` events before it are counted, not shown.
std::string ticket_page(const engine::ticket& t, const std::vector<engine::event_record>& history,
                        std::int64_t earlier, engine::timestamp now);
std::string ticket_table(const std::vector<engine::ticket>& tickets, engine::timestamp now);
// The first `width` columns of printable(s), with "…" when cut.
std::string clip(std::string_view s, std::size_t width);

// Text from the database made harmless for a terminal, for human output
// only (--json prints text as stored; JSON escapes every control). C0
// controls and DEL become their visible symbols (ESC → ␛, U+241B), C1
// controls, bidirectional overrides and line separators a visible
// "\u009b", bytes that are not UTF-8 "\xff": nothing printed can move the
// cursor, recolour, retitle or reorder what follows. Single-line text has
// its line feeds, carriage returns and tabs as spaces; `multiline` keeps
// line feeds and tabs (CR LF is a line feed), and every line after the
// first starts with `indent` spaces, so no line of the text can pass for a
// line of the surrounding output. Every human printer goes through this.
std::string printable(std::string_view s, bool multiline = false, std::size_t indent = 0);

}  // namespace plaint::cli
