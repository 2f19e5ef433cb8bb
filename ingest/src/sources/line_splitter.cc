#include "sources/line_splitter.h"

#include <cstring>

namespace vigil::ingest {

void LineSplitter::Reset(uint64_t offset) {
  partial_.clear();
  skipping_ = false;
  line_start_ = offset;
  fed_ = offset;
}

void LineSplitter::Emit(std::string_view text, uint64_t next, bool too_long, const LineFn& fn) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  Line line;
  line.text = too_long ? std::string_view() : text;
  line.offset = line_start_;
  line.next = next;
  line.too_long = too_long;
  line_start_ = next;
  fn(line);
}

void LineSplitter::Feed(std::string_view bytes, const LineFn& fn) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  const uint64_t base = fed_;
  fed_ += bytes.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) {
      size_t n = static_cast<size_t>(end - p);
      if (!skipping_ && partial_.size() + n > max_line_) {
        skipping_ = true;
        partial_.clear();
        partial_.shrink_to_fit();
      }
      if (!skipping_) partial_.append(p, n);
      return;
    }
    uint64_t next = base + static_cast<uint64_t>(nl - bytes.data()) + 1;
    size_t n = static_cast<size_t>(nl - p);
    if (skipping_ || partial_.size() + n > max_line_) {
      skipping_ = false;
      partial_.clear();
      Emit({}, next, true, fn);
    } else if (partial_.empty()) {
      Emit(std::string_view(p, n), next, false, fn);
    } else {
      partial_.append(p, n);
      std::string line;
      line.swap(partial_);
      Emit(line, next, false, fn);
    }
    p = nl + 1;
  }
}

void LineSplitter::Finish(const LineFn& fn) {
  if (skipping_) {
    skipping_ = false;
    Emit({}, fed_, true, fn);
  } else if (!partial_.empty()) {
    std::string line;
    line.swap(partial_);
    Emit(line, fed_, false, fn);
  }
}

}  // namespace vigil::ingest
