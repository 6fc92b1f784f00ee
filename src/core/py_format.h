// Python's text forms that minke must reproduce byte for byte (chat templates' tojson, the
// benchmark's saved results): repr(float) and a json.dumps string.
#pragma once

#include <string>
#include <string_view>

namespace minke {

// repr(float): shortest round-trip digits, fixed for decimal exponents in [-4, 16), else
// scientific with a two-digit exponent; "inf", "-inf", "nan", "-0.0".
std::string py_float_repr(double d);

// Appends json.dumps(s): quotes, Python's escapes, \uXXXX (surrogate pairs above U+FFFF) for
// control characters and, with ensure_ascii, for everything past ASCII. Ill-formed UTF-8
// becomes U+FFFD, as bytes.decode(errors="replace") would have made it.
void py_json_string_into(std::string& out, std::string_view s, bool ensure_ascii);

}  // namespace minke
