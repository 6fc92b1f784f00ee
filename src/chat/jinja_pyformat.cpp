// Python's str()/repr() of values, float repr and json.dumps, byte for byte.
#include "chat/jinja_pyformat.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja_text.h"
#include "core/py_format.h"

namespace minke::jinja {
namespace {

void append_hex(std::string& out, char32_t cp, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%0*x", digits, static_cast<unsigned>(cp));
  out += buf;
}

Status too_deep() { return invalid_argument("RecursionError: structure nested too deeply"); }

Status repr_into(std::string& out, const Value& v, int depth);

Status repr_items(std::string& out, const std::vector<Value>& items, int depth) {
  for (size_t k = 0; k < items.size(); ++k) {
    if (k) out += ", ";
    MINKE_TRY(repr_into(out, items[k], depth));
  }
  return Status::ok();
}

Status dict_repr_into(std::string& out, const DictData& d, int depth) {
  out += '{';
  bool first = true;
  for (const auto& [k, e] : d.items()) {
    if (!first) out += ", ";
    first = false;
    MINKE_TRY(repr_into(out, k, depth));
    out += ": ";
    MINKE_TRY(repr_into(out, e, depth));
  }
  out += '}';
  return Status::ok();
}

Status repr_into(std::string& out, const Value& v, int depth) {
  if (depth <= 0) return too_deep();
  switch (v.kind()) {
    case Kind::kUndefined: out += "Undefined"; return Status::ok();
    case Kind::kString: out += py_string_repr(v.str()); return Status::ok();
    case Kind::kList:
      if (v.is_tuple()) {
        out += '(';
        MINKE_TRY(repr_items(out, v.items(), depth - 1));
        out += v.items().size() == 1 ? ",)" : ")";
      } else {
        out += '[';
        MINKE_TRY(repr_items(out, v.items(), depth - 1));
        out += ']';
      }
      return Status::ok();
    case Kind::kDict: return dict_repr_into(out, v.dict(), depth - 1);
    case Kind::kNamespace:
      out += "<Namespace ";
      MINKE_TRY(dict_repr_into(out, v.namespace_attrs(), depth - 1));
      out += '>';
      return Status::ok();
    default: {
      MINKE_ASSIGN_OR_RETURN(std::string s, py_str(v, depth));
      out += s;
      return Status::ok();
    }
  }
}


Result<std::string> json_key(const Value& k) {
  switch (k.kind()) {
    case Kind::kString: return k.str();
    case Kind::kBool: return std::string(k.as_bool() ? "true" : "false");
    case Kind::kNone: return std::string("null");
    case Kind::kInt: return std::to_string(k.as_int());
    case Kind::kFloat: return py_float_repr(k.as_float());
    default:
      return invalid_argument("TypeError: keys must be str, int, float, bool or None, not {}",
                              type_name(k));
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonOptions& o) : o_(o) {
    if (!o.has_separators && o.has_indent) item_sep_ = ",";
    else item_sep_ = o.item_separator;
  }

  Status write(std::string& out, const Value& v, int depth, int level) {
    if (depth <= 0) return too_deep();
    switch (v.kind()) {
      case Kind::kNone: out += "null"; return Status::ok();
      case Kind::kBool: out += v.as_bool() ? "true" : "false"; return Status::ok();
      case Kind::kInt: out += std::to_string(v.as_int()); return Status::ok();
      case Kind::kFloat: {
        const double d = v.as_float();
        if (std::isnan(d)) out += "NaN";
        else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
        else out += py_float_repr(d);
        return Status::ok();
      }
      case Kind::kString: py_json_string_into(out, v.str(), o_.ensure_ascii); return Status::ok();
      case Kind::kList: {
        if (v.items().empty()) {
          out += "[]";
          return Status::ok();
        }
        out += '[';
        for (size_t k = 0; k < v.items().size(); ++k) {
          if (k) out += item_sep_;
          newline(out, level + 1);
          MINKE_TRY(write(out, v.items()[k], depth - 1, level + 1));
        }
        newline(out, level);
        out += ']';
        return Status::ok();
      }
      case Kind::kDict: return write_dict(out, v.dict(), depth, level);
      default:
        return invalid_argument("TypeError: Object of type {} is not JSON serializable",
                                type_name(v));
    }
  }

 private:
  void newline(std::string& out, int level) const {
    if (!o_.has_indent) return;
    out += '\n';
    for (int k = 0; k < level; ++k) out += o_.indent;
  }

  Status write_dict(std::string& out, const DictData& d, int depth, int level) {
    if (d.size() == 0) {
      out += "{}";
      return Status::ok();
    }
    std::vector<const std::pair<Value, Value>*> items;
    for (const auto& kv : d.items()) items.push_back(&kv);
    if (o_.sort_keys) {
      for (const auto* kv : items)
        if (!kv->first.is_string())  // mixed key types do not order in Python 3
          return invalid_argument("TypeError: '<' not supported between dict keys of type {}",
                                  type_name(kv->first));
      std::stable_sort(items.begin(), items.end(),
                       [](const auto* a, const auto* b) { return a->first.str() < b->first.str(); });
    }
    out += '{';
    bool first = true;
    for (const auto* kv : items) {
      if (!first) out += item_sep_;
      first = false;
      newline(out, level + 1);
      MINKE_ASSIGN_OR_RETURN(std::string key, json_key(kv->first));
      py_json_string_into(out, key, o_.ensure_ascii);
      out += o_.key_separator;
      MINKE_TRY(write(out, kv->second, depth - 1, level + 1));
    }
    newline(out, level);
    out += '}';
    return Status::ok();
  }

  const JsonOptions& o_;
  std::string item_sep_;
};

}  // namespace

std::string py_string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, &i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!py_isprintable(cp)) {
      out += cp < 0x100 ? "\\x" : cp < 0x10000 ? "\\u" : "\\U";
      append_hex(out, cp, cp < 0x100 ? 2 : cp < 0x10000 ? 4 : 8);
    } else {
      append_utf8(out, cp);
    }
  }
  out += quote;
  return out;
}

Result<std::string> py_str(const Value& v, int max_depth) {
  switch (v.kind()) {
    case Kind::kUndefined: return std::string();
    case Kind::kNone: return std::string("None");
    case Kind::kBool: return std::string(v.as_bool() ? "True" : "False");
    case Kind::kInt: return std::to_string(v.as_int());
    case Kind::kFloat: return py_float_repr(v.as_float());
    case Kind::kString: return v.str();
    case Kind::kCallable: {
      const Callable& c = v.callable();
      if (c.type == Callable::Type::kMacro) return "<Macro " + py_string_repr(c.name) + ">";
      if (c.type == Callable::Type::kBuiltin) return "<built-in function " + c.name + ">";
      return "<built-in method " + c.name + ">";
    }
    case Kind::kLoop:
      return "<LoopContext " + std::to_string(v.loop().index0 + 1) + "/" +
             std::to_string(v.loop().length) + ">";
    default: {
      std::string out;
      MINKE_TRY(repr_into(out, v, max_depth));
      return out;
    }
  }
}

Result<std::string> py_repr(const Value& v, int max_depth) {
  std::string out;
  MINKE_TRY(repr_into(out, v, max_depth));
  return out;
}

Result<std::string> json_dumps(const Value& v, const JsonOptions& options, int max_depth) {
  std::string out;
  JsonWriter w(options);
  MINKE_TRY(w.write(out, v, max_depth, 0));
  return out;
}

}  // namespace minke::jinja
