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

std::string ticket_page(const engine::ticket& t, const std::vector<engine::event_record>& history,
                        engine::timestamp now);
std::string ticket_table(const std::vector<engine::ticket>& tickets, engine::timestamp now);
// The first `width` code points of `s`, with "…" when cut.
std::string clip(std::string_view s, std::size_t width);

}  // namespace plaint::cli
