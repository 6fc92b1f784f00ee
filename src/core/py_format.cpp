// repr(float) from std::to_chars' shortest digits; json.dumps strings over utf8::decode_at.
#include "core/py_format.h"

#include "core/utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace minke {
namespace {

void append_u(std::string& out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", v);
  out += buf;
}

}  // namespace

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out = sci[0] == '-' ? "-" : "";
  if (sci[0] == '-') sci.erase(0, 1);
  const size_t e = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e + 1);
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int n = static_cast<int>(digits.size());
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return out + "0." + std::string(size_t(-exponent - 1), '0') + digits;
    if (n <= exponent + 1) return out + digits + std::string(size_t(exponent + 1 - n), '0') + ".0";
    return out + digits.substr(0, size_t(exponent + 1)) + "." + digits.substr(size_t(exponent + 1));
  }
  out += digits.substr(0, 1) + (n > 1 ? "." + digits.substr(1) : "");
  char exp[16];
  std::snprintf(exp, sizeof(exp), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp;
}

void py_json_string_into(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    const uint32_t cp = utf8::decode_at(s, i, &len);  // U+FFFD for an ill-formed byte
    i += len;
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp >= 0x10000) {  // a surrogate pair, as json.dumps writes it
        const uint32_t v = cp - 0x10000;
        append_u(out, unsigned(0xD800 + (v >> 10)));
        append_u(out, unsigned(0xDC00 + (v & 0x3FF)));
      } else {
        append_u(out, unsigned(cp));
      }
    } else {
      utf8::append(out, cp);
    }
  }
  out += '"';
}

}  // namespace minke
