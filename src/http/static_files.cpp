// SPDX-License-Identifier: MIT
#include "http/static_files.hpp"

#include "http/conditional.hpp"
#include "http/response.hpp"

namespace ns::http {

static_plan plan_static_response(const ns::http_request& req, const cached_file& f,
                                 std::string_view imf_date, bool keep_alive,
                                 std::uint64_t boundary_seed, std::string& out) {
  static_plan plan;
  const bool head = req.method == "HEAD";
  if (!head && req.method != "GET") {
    plan.status = 405;  // static files are read-only (RFC 9110 §15.5.6: Allow is added)
    append_error_response(out, 405, imf_date, keep_alive);
    return plan;
  }
  const std::uint64_t size = f.version.size;
  const auto v = f.validators();
  const auto cond = conditional_headers::from(req);
  switch (evaluate_preconditions(cond, true, v)) {
    case precondition::not_modified:
      // RFC 9110 §15.4.5: a 304 carries the validators, no content.
      plan.status = 304;
      response_writer(out)
          .start(304, imf_date)
          .header("ETag", f.etag.view())
          .header("Last-Modified", f.last_modified_view())
          .keep_alive(keep_alive)
          .end();
      return plan;
    case precondition::precondition_failed:
      plan.status = 412;
      append_error_response(out, 412, imf_date, keep_alive, head);
      return plan;
    case precondition::proceed:
      break;
  }

  const std::string_view range = req.header("Range");
  if (!range.empty() && if_range_allows(cond.if_range, v)) {
    plan.ranges = parse_range(range, size);
  }
  response_writer w(out);
  switch (plan.ranges.outcome) {
    case range_outcome::not_satisfiable: {
      plan.status = 416;
      w.start(416, imf_date).content_length(0).keep_alive(keep_alive);
      out.append("Content-Range: ");
      append_unsatisfied_range(out, size);
      out.append("\r\n");
      w.end();
      return plan;
    }
    case range_outcome::partial:
      plan.status = 206;
      if (plan.ranges.count == 1) {
        const auto r = plan.ranges.ranges[0];
        plan.offset = r.first;
        plan.length = r.length();
        w.start(206, imf_date).content_length(plan.length).keep_alive(keep_alive);
        out.append(f.header_block);
        out.append("Content-Range: ");
        append_content_range(out, r, size);
        out.append("\r\n");
      } else {
        plan.multipart = true;
        make_boundary(boundary_seed, plan.boundary);
        w.start(206, imf_date)
            .content_length(
                multipart_length(plan.ranges, plan.boundary_view(), f.content_type, size))
            .keep_alive(keep_alive);
        out.append("Content-Type: multipart/byteranges; boundary=");
        out.append(plan.boundary_view());
        out.append("\r\nETag: ").append(f.etag.view());
        out.append("\r\nLast-Modified: ").append(f.last_modified_view());
        out.append("\r\nAccept-Ranges: bytes\r\n");
      }
      break;
    case range_outcome::full:
      plan.status = 200;
      plan.offset = 0;
      plan.length = size;
      w.start(200, imf_date).content_length(size).keep_alive(keep_alive);
      out.append(f.header_block);
      break;
  }
  w.end();
  plan.send_body = !head;
  return plan;
}

}  // namespace ns::http
