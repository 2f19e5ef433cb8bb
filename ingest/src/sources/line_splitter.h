// Splits a byte stream that arrives in pieces (a growing file, a pipe) into lines, with the
// byte offset of each line and of the byte after it. A line longer than max_line is
// reported as too long (its text dropped) instead of held in memory. A trailing "\r" is
// removed (CRLF files).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace vigil::ingest {

class LineSplitter {
 public:
  struct Line {
    std::string_view text;  // valid during the callback only
    uint64_t offset = 0;    // of the line's first byte
    uint64_t next = 0;      // of the byte after its newline
    bool too_long = false;
  };
  using LineFn = std::function<void(const Line&)>;

  explicit LineSplitter(size_t max_line = 16u << 20) : max_line_(max_line) {}

  // Continues at byte `offset` of a new input, forgetting any unfinished line.
  void Reset(uint64_t offset);
  // Takes the next bytes; calls fn for every line they complete.
  void Feed(std::string_view bytes, const LineFn& fn);
  // The input ended: an unfinished last line (without newline) is emitted.
  void Finish(const LineFn& fn);

  // Offset just after the last complete line: where a resume would start.
  uint64_t consumed() const { return line_start_; }
  bool has_partial() const { return !partial_.empty() || skipping_; }

 private:
  void Emit(std::string_view text, uint64_t next, bool too_long, const LineFn& fn);

  const size_t max_line_;
  std::string partial_;      // bytes of the unfinished line
  bool skipping_ = false;    // inside an over-long line
  uint64_t line_start_ = 0;  // offset of the unfinished line's first byte
  uint64_t fed_ = 0;         // offset after the last byte fed
};

}  // namespace vigil::ingest
