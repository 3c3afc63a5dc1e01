// API tokens: issuing (random secret, salted hash stored) and checking a
// presented bearer token; roles ordered agent < supervisor < admin.
//
// A token reads `plt_<id>_<secret>`: the id finds the row, the secret is
// checked against the salted hash in constant time. Secrets never reach
// storage or logs.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/store.h"

namespace plaint::engine {

struct issued_token {
  api_token record;  // what is stored
  std::string text;  // the bearer token, shown once
};

// Returns `invalid` for an empty or oversized name or an unknown role.
Result<issued_token> issue_token(std::string_view name, std::string_view role, timestamp now);

struct token_identity {
  std::string name;
  std::string role;
  // Set for a signed-in browser (engine/people.h): the token its
  // state-changing requests must carry. Empty for a bearer token.
  std::string csrf;
};

// `n` (at most 64) bytes from OpenSSL's CSPRNG, as lower-case hex.
Result<std::string> random_hex(std::size_t n);

// Returns `not_found` ("the token is not valid") for a malformed, unknown,
// revoked or wrong token (disabling a person revokes the tokens named after
// them, engine/people.h, so no person is read here, on every request) — one message for all, so callers cannot probe.
Result<token_identity> check_token(store& s, std::string_view presented);

bool is_role(std::string_view role);
// True when `have` includes the rights of `need`.
bool role_at_least(std::string_view have, std::string_view need);

}  // namespace plaint::engine
