// GPT-2 byte <-> unicode alphabet (openai/gpt-2 encoder.py bytes_to_unicode): the 188 printable
// bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for themselves, the other 68 bytes
// map in order to U+0100, U+0101, ...
#include "tokenizer/byte_level.h"

#include "core/utf8.h"

namespace minke::byte_level {
namespace {

bool is_printable(uint32_t b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

}  // namespace

uint32_t byte_to_code_point(uint8_t b) {
  if (is_printable(b)) return b;
  // Rank of b among the non-printable bytes: 0x00-0x20 (33), 0x7F-0xA0 (34), 0xAD (1).
  if (b <= 0x20) return 256 + b;
  if (b <= 0xA0) return 256 + 33 + (b - 0x7F);
  return 256 + 33 + 34;  // 0xAD
}

int code_point_to_byte(uint32_t cp) {
  if (cp < 256) return is_printable(cp) ? int(cp) : -1;
  const uint32_t k = cp - 256;
  if (k < 33) return int(k);
  if (k < 33 + 34) return int(0x7F + (k - 33));
  if (k == 33 + 34) return 0xAD;
  return -1;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) utf8::append(out, byte_to_code_point(uint8_t(c)));
  return out;
}

std::string decode_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0, len; i < token.size(); i += len) {
    const int b = code_point_to_byte(utf8::decode_at(token, i, &len));
    if (b < 0) return std::string(token);  // not byte-level: HF keeps the token's own bytes
    out += char(b);
  }
  return out;
}

}  // namespace minke::byte_level
