// SPDX-License-Identifier: MIT
// Reason phrases are the ones RFC 9110 §15 registers (e.g. 413 is "Content Too Large" since
// RFC 9110, no longer "Payload Too Large"), and every canned error response carries its own
// status line, a Content-Length equal to its body and the body "<code> <reason>\n".
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "http/response.hpp"

namespace {

constexpr std::pair<int, const char*> rfc9110[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},                // RFC 6585 §4
    {431, "Request Header Fields Too Large"},  // RFC 6585 §5
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
};

TEST(HttpReasonPhrase, MatchesTheRegistry) {
  for (const auto& [code, phrase] : rfc9110) {
    EXPECT_EQ(ns::http::reason_phrase(code), phrase) << code;
  }
}

TEST(HttpReasonPhrase, UnknownCodesSayUnknown) {
  for (const int code : {0, 199, 299, 418, 599, 999}) {
    EXPECT_EQ(ns::http::reason_phrase(code), "Unknown") << code;
  }
}

TEST(HttpReasonPhrase, CannedErrorResponsesAreSelfConsistent) {
  for (const auto& [code, phrase] : rfc9110) {
    if (code < 400) continue;
    std::string out;
    ns::http::append_error_response(out, code, "Sun, 06 Nov 1994 08:49:37 GMT");
    const std::string status_line = "HTTP/1.1 " + std::to_string(code) + " " + phrase + "\r\n";
    EXPECT_EQ(out.rfind(status_line, 0), 0u) << out;
    const auto head_end = out.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const std::string body = out.substr(head_end + 4);
    EXPECT_EQ(body, std::to_string(code) + " " + phrase + "\n");
    EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(out.find("Allow:") != std::string::npos, code == 405) << code;
  }
}

TEST(HttpReasonPhrase, OutOfRangeStatusBecomes500) {
  std::string out;
  ns::http::append_error_response(out, 42, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(out.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << out;
}

}  // namespace
