// The directory of people and their web sessions: who may sign in, with
// which role, and which tickets they may own.
//
// Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str, with
// t = 2 passes over 19 MiB: the OWASP minimum, about 30 ms on one core) and
// never stored or logged in clear. A session cookie carries a random secret
// of 256 bits; storage holds its SHA-256, so neither a database copy nor a
// log signs anybody in. A session names its person, and every check reads
// the person again: disabling someone ends their sessions and tokens at once.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/store.h"
#include "engine/tokens.h"

namespace plaint::engine {

inline constexpr std::size_t min_password_bytes = 8;
inline constexpr std::size_t max_password_bytes = 1024;
inline constexpr std::size_t max_person_id_bytes = 64;
// Sessions one person may hold; signing in again ends the oldest beyond it.
inline constexpr int max_sessions_per_person = 20;

// Returns `invalid` naming the first field that is wrong: an id other than
// 1–64 of [A-Za-z0-9._@-], a missing name, an e-mail without '@', a role
// other than agent|supervisor|admin, a team other than L1|L2|L3.
Status check_person(const person& p);

// {"id","name","email","role","team","disabled","created_at","updated_at"}:
// never the password hash.
json to_json(const person& p);

// The Argon2id hash of `password` (`invalid` if shorter than 8 or longer
// than 1024 bytes, or not UTF-8; `internal` if libsodium fails).
Result<std::string> hash_password(std::string_view password);
// True when `password` matches `hash`; false for an empty or malformed hash.
// Costs what hashing costs, so callers bound how many run at once.
bool verify_password(std::string_view hash, std::string_view password);

struct issued_session {
  web_session record;  // what is stored
  std::string cookie;  // the cookie's value, handed to the browser once
};
Result<issued_session> issue_session(std::string_view person_id, timestamp now, std::int64_t lifetime_seconds);
// The stored id of a presented cookie value.
std::string session_id_of(std::string_view cookie);

// The identity behind a session cookie: the person's id and current role,
// and the session's CSRF token. `not_found` ("the session is not valid")
// for a malformed, unknown or expired cookie or a disabled person.
Result<token_identity> check_session(store& s, std::string_view cookie, timestamp now);

// Stops a person inside `tx`: marks them disabled, ends their sessions and
// revokes the tokens named after them. Returns how many sessions ended.
Result<int> disable_person(store_transaction& tx, person& p, timestamp now);

// Refuses (`not_allowed`) an owner who is not an active person of the
// directory, once the directory has anyone in it; with an empty directory
// every owner name is taken as given (scripts that never created people).
Status check_owner(store_transaction& tx, std::string_view owner);

}  // namespace plaint::engine
