// UTF-8 decoding and Python's whitespace, printability and case rules for the scripts
// chat templates meet. Unicode tables are abridged: see the README for what is covered.
#include "chat/jinja_text.h"

#include "core/utf8.h"

#include <algorithm>

namespace minke::jinja {
namespace {

struct Range { char32_t lo, hi; };

// Characters Python's str.isprintable() rejects beyond the C0/C1 controls: separators
// other than ' ' (Zs, Zl, Zp), common format characters (Cf), private use (Co) and
// noncharacters.
constexpr Range kNonPrintable[] = {
    {0xA0, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
    {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},     {0x8E2, 0x8E2},
    {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},   {0x2028, 0x202F},
    {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},   {0xD800, 0xF8FF},
    {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},
    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

// Simple one-to-one case pairs: lower = upper + delta, over [lo, hi] (step 1 or 2).
struct CasePair { char32_t lo, hi; int delta; int step; };
constexpr CasePair kUpperToLower[] = {
    {0x41, 0x5A, 32, 1},     {0xC0, 0xD6, 32, 1},     {0xD8, 0xDE, 32, 1},
    {0x100, 0x12E, 1, 2},    {0x132, 0x136, 1, 2},    {0x139, 0x147, 1, 2},
    {0x14A, 0x176, 1, 2},    {0x179, 0x17D, 1, 2},    {0x386, 0x386, 38, 1},
    {0x388, 0x38A, 37, 1},   {0x38C, 0x38C, 64, 1},   {0x38E, 0x38F, 63, 1},
    {0x391, 0x3A1, 32, 1},   {0x3A3, 0x3AB, 32, 1},   {0x400, 0x40F, 80, 1},
    {0x410, 0x42F, 32, 1},   {0x460, 0x480, 1, 2},    {0x48A, 0x4BE, 1, 2},
    {0x531, 0x556, 48, 1},   {0xFF21, 0xFF3A, 32, 1},
};

char32_t map_case(char32_t cp, bool to_lower) {
  for (const auto& p : kUpperToLower) {
    const char32_t lo = to_lower ? p.lo : p.lo + p.delta;
    const char32_t hi = to_lower ? p.hi : p.hi + p.delta;
    if (cp < lo || cp > hi || (cp - lo) % p.step != 0) continue;
    return to_lower ? cp + p.delta : cp - p.delta;
  }
  if (!to_lower) {
    switch (cp) {
      case 0xB5: return 0x39C;   // micro sign
      case 0xFF: return 0x178;   // y with diaeresis
      case 0x131: return 'I';    // dotless i
      case 0x17F: return 'S';    // long s
      case 0x3C2: return 0x3A3;  // final sigma
      default: break;
    }
  } else if (cp == 0x178) {
    return 0xFF;
  }
  return cp;
}

bool is_cased(char32_t cp) {
  return map_case(cp, true) != cp || map_case(cp, false) != cp || cp == 0xDF || cp == 0x130;
}

void append_upper(std::string& out, char32_t cp) {
  if (cp == 0xDF) {  // sharp s upper-cases to two letters
    out += "SS";
    return;
  }
  append_utf8(out, map_case(cp, false));
}

void append_lower(std::string& out, char32_t cp) {
  if (cp == 0x130) {  // capital I with dot lower-cases to i + combining dot
    out += "i\xCC\x87";
    return;
  }
  append_utf8(out, map_case(cp, true));
}

}  // namespace

char32_t next_code_point(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  const int n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
  char32_t cp = b0 & (0x7F >> n);
  for (int k = 1; k < n && *i + k < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += n;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) { utf8::append(out, uint32_t(cp)); }

size_t first_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    char32_t cp = b0 & (0x7F >> n);
    for (int k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return i;
    i += n;
  }
  return s.size();
}

bool is_valid_utf8(std::string_view s) { return utf8::is_valid(s); }

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

size_t code_point_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<size_t> code_point_offsets(std::string_view s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  offsets.push_back(s.size());
  return offsets;
}

bool py_isspace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool py_isprintable(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return false;
  for (const auto& r : kNonPrintable)
    if (cp >= r.lo && cp <= r.hi) return false;
  return true;
}

char32_t py_lower(char32_t cp) { return map_case(cp, true); }
char32_t py_upper(char32_t cp) { return map_case(cp, false); }

std::string py_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) append_lower(out, next_code_point(s, &i));
  return out;
}

std::string py_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) append_upper(out, next_code_point(s, &i));
  return out;
}

std::string py_title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool previous_cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, &i);
    if (previous_cased)
      append_lower(out, cp);
    else
      append_upper(out, cp);
    previous_cased = is_cased(cp);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const bool first = i == 0;
    const char32_t cp = next_code_point(s, &i);
    if (first)
      append_upper(out, cp);
    else
      append_lower(out, cp);
  }
  return out;
}

std::string_view py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<char32_t> set;
  if (chars)
    for (size_t i = 0; i < chars->size();) set.push_back(next_code_point(*chars, &i));
  auto strippable = [&](char32_t cp) {
    return chars ? std::find(set.begin(), set.end(), cp) != set.end() : py_isspace(cp);
  };
  const std::vector<size_t> off = code_point_offsets(s);
  size_t b = 0, e = off.size() - 1;  // code point range [b, e)
  auto cp_at = [&](size_t k) {
    size_t i = off[k];
    return next_code_point(s, &i);
  };
  if (left)
    while (b < e && strippable(cp_at(b))) ++b;
  if (right)
    while (e > b && strippable(cp_at(e - 1))) --e;
  return s.substr(off[b], off[e] - off[b]);
}

}  // namespace minke::jinja
