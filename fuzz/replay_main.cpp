// SPDX-License-Identifier: MIT
// A plain main() for a libFuzzer harness: runs LLVMFuzzerTestOneInput once on every file given
// (directories are walked, in name order). Linked with each harness when fuzzers are not being
// built, so ctest replays the committed seed corpus and every fuzz/regressions/ input under the
// normal build (ASan + UBSan in the dev preset, counted by the coverage preset). A harness
// signals a broken invariant by aborting, which fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
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
  for (int i = 1; i < argc; ++i) {
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
  return 0;
}
