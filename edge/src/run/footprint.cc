// After startup and after each rules change: unmapping the code pages used only then.
#include "footprint.h"

#include <sys/mman.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::edge {

uint64_t ReleaseStartupPages() {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  struct Vma {
    uintptr_t start = 0, end = 0;
    uint64_t rss_kb = 0;
    bool candidate = false, own_pages = false;
  };
  std::vector<Vma> vmas;
  while (std::getline(smaps, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') < line.find(' ')) {
      std::istringstream in(line);
      std::string range, perms, offset, dev, inode, path;
      in >> range >> perms >> offset >> dev >> inode >> path;
      Vma v;
      size_t dash = range.find('-');
      v.start = std::stoull(range.substr(0, dash), nullptr, 16);
      v.end = std::stoull(range.substr(dash + 1), nullptr, 16);
      v.candidate = perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
                    !path.empty() && path[0] == '/';
      vmas.push_back(v);
    } else if (!vmas.empty() && line.rfind("Anonymous:", 0) == 0) {
      vmas.back().own_pages = std::stoull(line.substr(10)) > 0;
    } else if (!vmas.empty() && line.rfind("Rss:", 0) == 0) {
      vmas.back().rss_kb = std::stoull(line.substr(4));
    }
  }
  uint64_t released = 0;
  for (const Vma& v : vmas) {
    if (!v.candidate || v.own_pages || v.rss_kb == 0) continue;
    if (madvise(reinterpret_cast<void*>(v.start), v.end - v.start, MADV_DONTNEED) == 0) {
      released += v.rss_kb;
    }
  }
  return released;
}

}  // namespace vigil::edge
