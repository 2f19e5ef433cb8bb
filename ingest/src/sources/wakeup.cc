#include "sources/wakeup.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace vigil::ingest {

Wakeup::Wakeup() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Wakeup::~Wakeup() {
  if (fd_ >= 0) close(fd_);
}

void Wakeup::Signal() {
  uint64_t one = 1;
  ssize_t ignored = write(fd_, &one, sizeof one);
  (void)ignored;
}

void Wakeup::Clear() {
  uint64_t v;
  ssize_t ignored = read(fd_, &v, sizeof v);
  (void)ignored;
}

bool Wakeup::Wait(int input, int timeout_ms, bool* woken) {
  pollfd fds[2];
  int n = 0;
  fds[n++] = {fd_, POLLIN, 0};
  if (input >= 0) fds[n++] = {input, POLLIN, 0};
  int rc;
  do {
    rc = poll(fds, static_cast<nfds_t>(n), timeout_ms);
  } while (rc < 0 && errno == EINTR);
  *woken = rc > 0 && (fds[0].revents & POLLIN) != 0;
  return rc > 0 && n > 1 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace vigil::ingest
