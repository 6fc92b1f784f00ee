// UTF-8 validation per Unicode 15 table 3-7 (well-formed byte sequences).
#include "core/utf8.h"

namespace minke::utf8 {
namespace {

// Length of the well-formed sequence at s[i], or 0 if the bytes there are
// ill-formed; `maximal` gets the length of the maximal ill-formed subpart (>= 1).
size_t well_formed_at(std::string_view s, size_t i, size_t* maximal) {
  const auto b = [&](size_t k) { return uint8_t(s[i + k]); };
  const uint8_t c0 = b(0);
  *maximal = 1;
  if (c0 < 0x80) return 1;
  uint8_t lo = 0x80, hi = 0xbf;
  size_t n;
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    n = 2;
  } else if (c0 >= 0xe0 && c0 <= 0xef) {
    n = 3;
    if (c0 == 0xe0) lo = 0xa0;
    if (c0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (c0 >= 0xf0 && c0 <= 0xf4) {
    n = 4;
    if (c0 == 0xf0) lo = 0x90;
    if (c0 == 0xf4) hi = 0x8f;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) return 0;
    const uint8_t ck = b(k);
    const uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
    if (ck < l || ck > h) return 0;
    *maximal = k + 1;
  }
  return n;
}

}  // namespace

int sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

size_t complete_prefix(std::string_view s) {
  // Only the last 3 bytes can belong to an unfinished character.
  const size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = start; i < s.size(); ++i) {
    const int n = sequence_length(uint8_t(s[i]));
    if (n <= 1 || i + size_t(n) <= s.size()) continue;
    // s[i..] is a lead byte whose sequence runs past the end: incomplete if every
    // byte so far could still continue it.
    size_t maximal;
    well_formed_at(s.substr(0, s.size()), i, &maximal);
    if (i + maximal == s.size()) return i;
  }
  return s.size();
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t maximal;
    const size_t n = well_formed_at(s, i, &maximal);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t maximal;
    const size_t n = well_formed_at(s, i, &maximal);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xef\xbf\xbd");  // U+FFFD
      i += maximal;
    }
  }
  return out;
}

uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  size_t maximal;
  const size_t n = well_formed_at(s, i, &maximal);
  const auto b = [&](size_t k) { return uint32_t(uint8_t(s[i + k])); };
  *len = n == 0 ? 1 : n;
  switch (n) {
    case 1: return b(0);
    case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    case 4: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
    default: return 0xFFFD;
  }
}

size_t previous_boundary(std::string_view s, size_t end) {
  size_t i = end;
  while (i > 0 && (uint8_t(s[i - 1]) & 0xC0) == 0x80 && end - i < 3) --i;
  return i > 0 ? i - 1 : 0;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

}  // namespace minke::utf8
