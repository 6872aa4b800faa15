// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Fuzzes document_root::resolve() against a temporary tree made once: a root with files, a
// subdirectory, symlinks inside and symlinks leaving it, next to a secret file outside.
// Invariant: a 200 result names (fs_path) and opened (the fd, checked via /proc) a regular
// file strictly beneath the root; every status is one of 200 301 400 403 404.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/path.hpp"

namespace {

void write_file(const std::string& p, const char* s) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  if (::write(fd, s, std::strlen(s)) < 0) std::abort();
  ::close(fd);
}

struct tree {
  std::string base, root;
  tree() {
    char tmpl[] = "/tmp/ns_http_path_fuzz_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    base = tmpl;
    root = base + "/root";
    ::mkdir(root.c_str(), 0755);
    ::mkdir((root + "/sub").c_str(), 0755);
    ::mkdir((root + "/sub/deeper").c_str(), 0755);
    write_file(base + "/secret.txt", "secret");
    write_file(root + "/index.html", "<h1>i</h1>");
    write_file(root + "/a.txt", "a");
    write_file(root + "/sub/index.html", "s");
    write_file(root + "/sub/deeper/b.txt", "b");
    if (::symlink("/etc", (root + "/etc").c_str()) != 0) std::abort();
    if (::symlink("../secret.txt", (root + "/up").c_str()) != 0) std::abort();
    if (::symlink("..", (root + "/sub/parent").c_str()) != 0) std::abort();
    if (::symlink("../..", (root + "/sub/grand").c_str()) != 0) std::abort();
    if (::symlink("a.txt", (root + "/link").c_str()) != 0) std::abort();
  }
  ~tree() {  // libFuzzer exits normally: leave no temp tree behind
    for (const char* f : {"/link", "/sub/grand", "/sub/parent", "/up", "/etc", "/sub/deeper/b.txt",
                          "/sub/index.html", "/a.txt", "/index.html"}) {
      ::unlink((root + f).c_str());
    }
    ::rmdir((root + "/sub/deeper").c_str());
    ::rmdir((root + "/sub").c_str());
    ::rmdir(root.c_str());
    ::unlink((base + "/secret.txt").c_str());
    ::rmdir(base.c_str());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tree t;
  static const ns::http::document_root root(t.root);
  static ns::http::resolved_file out;  // reused like a connection would
  const std::string target(reinterpret_cast<const char*>(data), size);
  root.resolve(target, out);
  const std::string prefix = root.path() + "/";
  switch (out.status) {
    case 200: {
      if (!out.fd || out.fs_path.rfind(prefix, 0) != 0 || !S_ISREG(out.st.st_mode)) std::abort();
      char link[64], real[PATH_MAX];
      std::snprintf(link, sizeof link, "/proc/self/fd/%d", out.fd.get());
      const ssize_t n = ::readlink(link, real, sizeof real - 1);
      if (n <= 0) std::abort();
      real[n] = 0;
      if (std::string_view(real).rfind(prefix, 0) != 0) std::abort();
      break;
    }
    case 301:
      if (out.fd || out.location.empty() || out.location[0] != '/') std::abort();
      break;
    case 400:
    case 403:
    case 404:
      if (out.fd) std::abort();
      break;
    default:
      std::abort();
  }
  return 0;
}
