// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// File extension → Content-Type.

#include <string_view>

namespace ns::http {

/// Content-Type for the file at @p path, chosen by its extension (ASCII case-insensitive).
/// Text types carry `; charset=utf-8`. Unknown or missing extension → application/octet-stream.
/// The view refers to a static table.
[[nodiscard]] std::string_view mime_type(std::string_view path) noexcept;

}  // namespace ns::http
