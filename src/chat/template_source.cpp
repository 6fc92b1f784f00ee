// Reading chat templates from tokenizer_config.json or the command line.
#include "chat/template_source.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace minke {
namespace {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{}: cannot read", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<std::string> chat_template_from_model(const std::string& model_dir,
                                             const std::string& name) {
  const auto path = std::filesystem::path(model_dir) / "tokenizer_config.json";
  MINKE_ASSIGN_OR_RETURN(std::string text, read_file(path));
  const std::string wanted = name.empty() ? "default" : name;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("chat_template") || j["chat_template"].is_null())
      return not_found("{} has no chat_template; pass one with --chat-template", path.string());
    const nlohmann::json& t = j["chat_template"];
    if (t.is_string()) {
      if (!name.empty() && name != "default")
        return not_found("{} has a single chat template, not one named '{}'", path.string(), name);
      return t.get<std::string>();
    }
    if (t.is_array()) {
      for (const auto& entry : t)
        if (entry.is_object() && entry.value("name", "") == wanted && entry.contains("template") &&
            entry["template"].is_string())
          return entry["template"].get<std::string>();
      return not_found("{} has no chat template named '{}'", path.string(), wanted);
    }
    return invalid_argument("{}: chat_template must be a string or a list of named templates",
                            path.string());
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument("{}: not valid JSON: {}", path.string(), e.what());
  }
}

Result<std::string> chat_template_from_argument(const std::string& argument) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(argument, ec)) return read_file(argument);
  if (argument.find("{%") != std::string::npos || argument.find("{{") != std::string::npos)
    return argument;
  return not_found("--chat-template '{}' is neither a readable file nor a template", argument);
}

// transformers' special_tokens_map from tokenizer_config.json (bos_token, eos_token, ...;
// each a string or an AddedToken {"content": ...}; unset or null ones are left out), which
// apply_chat_template passes to the template.
Result<nlohmann::ordered_json> template_special_tokens(const std::string& model_dir) {
  using ojson = nlohmann::ordered_json;
  ojson tokens = ojson::object();
  if (model_dir.empty()) return tokens;
  const std::string path = model_dir + "/tokenizer_config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("{}: cannot read", path);
  try {
    const ojson config = ojson::parse(in);
    auto content = [](const ojson& t) -> ojson {
      if (t.is_string()) return t;
      if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"];
      return ojson();
    };
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                            "cls_token", "mask_token"})
      if (config.contains(key) && !content(config[key]).is_null()) tokens[key] = content(config[key]);
    if (config.contains("additional_special_tokens") && config["additional_special_tokens"].is_array()) {
      ojson extra = ojson::array();
      for (const auto& t : config["additional_special_tokens"])
        if (!content(t).is_null()) extra.push_back(content(t));
      tokens["additional_special_tokens"] = extra;
    }
  } catch (const ojson::exception& e) {
    return invalid_argument("{}: not valid JSON: {}", path, e.what());
  }
  return tokens;
}

}  // namespace minke
