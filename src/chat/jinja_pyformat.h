// Python's text forms of values, as jinja2 under transformers prints them: str() for
// `{{ x }}`, repr() inside containers ("[1, 'a']"), float repr ("1.0", "1e-05"), and the
// `tojson` filter (json.dumps with ensure_ascii=False and Python's separators).
#pragma once

#include <string>

#include "chat/jinja_value.h"
#include "core/py_format.h"
#include "core/status.h"

namespace minke::jinja {

using ::minke::py_float_repr;  // repr(float), shared with the benchmark's JSON (core)
// repr(str): single quotes unless the text has ' and no ", escapes like CPython.
std::string py_string_repr(std::string_view s);
// str(value): strings as they are, Undefined as "", containers via repr. Fails only on
// structures nested past `max_depth`.
Result<std::string> py_str(const Value& v, int max_depth = 512);
Result<std::string> py_repr(const Value& v, int max_depth = 512);

struct JsonOptions {
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_indent = false;  // indent=None when false
  std::string indent;       // the indent unit (an int n means n spaces)
  bool has_separators = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
};

// json.dumps(value, ...): TypeError-like errors for values JSON cannot hold.
Result<std::string> json_dumps(const Value& v, const JsonOptions& options, int max_depth = 512);

}  // namespace minke::jinja
