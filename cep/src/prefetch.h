// Internal: a software prefetch the compiler keeps. GCC drops __builtin_prefetch when the
// address comes from loads whose only use is the prefetch, which is the point of most of
// ours (fetch a key's state while other work runs).
#pragma once

namespace vigil::cep {

// Asks for the cache line holding `p`. Never faults: `p` may be stale or null.
inline void Prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace vigil::cep
