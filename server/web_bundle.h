// The web desk's JavaScript modules joined into one file, so that a first
// visit fetches one script instead of a dozen (on a cold browser the
// requests, not the bytes, are what the first paint waits for).
//
// The modules keep to a small, checked subset of ES module syntax, which is
// all the desk uses:
//   import {a, b as c} from './x.js';     import * as x from './x.js';
//   export function f / export async function f / export const|class X
//   import('./x.js')                      (a page loaded when visited)
// Each module becomes a function scope run once, in dependency order, that
// returns its exports; imports read them from the modules run before it.
// Anything else (export default, export let, re-exports, bare imports,
// imports from other places, cycles) is refused with a sentence naming the
// module, so a page that would not load is found by the tests, not by an
// agent.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace plaint::server {

// Reads a module's text by file name ("dom.js"); nullopt when absent.
using module_source = std::function<std::optional<std::string>(std::string_view name)>;

// The bundle of `entry` and every module it imports, as one classic-free
// module script (it has no imports or exports of its own).
engine::Result<std::string> bundle_modules(std::string_view entry, const module_source& read);

}  // namespace plaint::server
