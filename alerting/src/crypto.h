// The hashes sinks sign with (OpenSSL): SHA-256 and HMAC-SHA256.
#pragma once

#include <string>
#include <string_view>

namespace vigil::alerting {

std::string Sha256(std::string_view data);  // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Hex(std::string_view bytes);  // lower-case

}  // namespace vigil::alerting
