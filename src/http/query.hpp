// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The query of a request-target (RFC 3986 §3.4), read as `key=value` pairs separated by '&'
/// (the form encoding browsers use): one parameter's value, without decoding it.

#include <optional>
#include <string_view>

namespace ns::http {

/// The value of the first parameter named @p key in the query of @p target ("/p?a=1&b=2"),
/// still percent-encoded: a view into @p target. A parameter without '=' ("?a&b=2") has an
/// empty value. nullopt when the target has no query or no such parameter. Names are compared
/// byte for byte, undecoded ("%61" is not "a"). A '#' ends the query (a fragment is not part
/// of a request-target, but a careless client may send one).
std::optional<std::string_view> query_value(std::string_view target, std::string_view key) noexcept;

}  // namespace ns::http
