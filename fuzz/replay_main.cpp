// SPDX-License-Identifier: MIT
// A plain main() for a libFuzzer harness: runs LLVMFuzzerTestOneInput once on every file given
// (directories are walked, in name order). Linked with each harness when fuzzers are not being
// built, so ctest replays the committed seed corpus and every fuzz/regressions/ input under the
// normal build (ASan + UBSan in the dev preset, counted by the coverage preset). A harness
// signals a broken invariant by aborting, which fails the test. Replaying nothing fails too
// (a moved or misspelt corpus would otherwise pass while testing nothing), unless the first
// argument is --allow-empty. A path that does not exist is skipped: regressions/<name>/ is
// created only once a harness has a regression.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
  // Exact-size heap copy, as libFuzzer does, so ASan sees any over-read.
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[bytes.size() + 1]);
  std::copy(bytes.begin(), bytes.end(), buf.get());
  (void)LLVMFuzzerTestOneInput(buf.get(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  int first = 1;
  const bool allow_empty = argc > 1 && std::string_view(argv[1]) == "--allow-empty";
  if (allow_empty) ++first;
  for (int i = first; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
    } else if (std::filesystem::exists(arg)) {
      files.push_back(arg);
    }
    for (const auto& f : files) {
      run_file(f);
      ++count;
    }
  }
  std::printf("replayed %zu input(s)\n", count);
  if (count == 0 && !allow_empty) {
    std::fprintf(stderr, "no inputs found in:");
    for (int i = first; i < argc; ++i) std::fprintf(stderr, " %s", argv[i]);
    std::fprintf(stderr, " (pass --allow-empty first if that is intended)\n");
    return 1;
  }
  return 0;
}
