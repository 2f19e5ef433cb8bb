// Reads a file (or standard input) line by line, with each line's number and byte offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/cep/status.h"

namespace vigil::ingest {

// Thread safety: one thread.
class LineReader {
 public:
  // Lines longer than this are reported as too long and skipped, so one bad record cannot
  // exhaust memory.
  static constexpr size_t kMaxLine = 16 << 20;

  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path`; "-" is standard input.
  Status Open(const std::string& path);
  // Starts at byte `offset` (a line start), counting lines from `line_number`.
  Status Seek(uint64_t offset, uint64_t line_number);

  struct Line {
    std::string_view text;  // without the trailing newline; valid until the next call
    uint64_t number = 0;    // 1-based
    uint64_t offset = 0;    // byte offset of the line's start
    bool too_long = false;  // text is empty and the line was skipped
  };
  // Reads the next line. Returns false at the end; `status` says if it ended by an error.
  bool Next(Line* line, Status* status);

  // Byte offset just past the last line returned.
  uint64_t position() const { return consumed_; }

 private:
  bool Fill(Status* status);
  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  std::string path_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unread bytes in buf_
  uint64_t consumed_ = 0;       // file offset of buf_[begin_]
  uint64_t line_number_ = 0;
  bool skipping_ = false;        // inside an over-long line
  uint64_t skipped_offset_ = 0;  // where the over-long line started
};

}  // namespace vigil::ingest
