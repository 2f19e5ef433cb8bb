// A file descriptor a thread can poll() next to its input so that Stop() wakes it at once:
// no sleeping loops, no stuck reads.
#pragma once

namespace vigil::ingest {

class Wakeup {
 public:
  Wakeup();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  int fd() const { return fd_; }
  void Signal();
  // Waits until `input` is readable, Signal() was called, or timeout_ms passes (< 0: no
  // limit). Returns true if `input` (>= 0) is readable; *woken tells whether Signal() was.
  bool Wait(int input, int timeout_ms, bool* woken);
  void Clear();

 private:
  int fd_ = -1;
};

}  // namespace vigil::ingest
