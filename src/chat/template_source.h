// Where a chat template comes from: tokenizer_config.json's "chat_template" (a
// string, or a list of {"name", "template"} where "default" is used), or a
// --chat-template argument that is a file path or, as in vLLM, the template itself.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace minke {

// The chat template of a model directory (its tokenizer_config.json), by name
// ("default" when empty). not_found when the model has none.
Result<std::string> chat_template_from_model(const std::string& model_dir,
                                             const std::string& name = "");

// A --chat-template value: the contents of the file it names if one exists, else
// the argument itself when it looks like a template ("{%" or "{{"), else an error.
Result<std::string> chat_template_from_argument(const std::string& argument);

// transformers' special_tokens_map from a model's tokenizer_config.json (bos_token,
// eos_token, ...; unset or null ones left out), which apply_chat_template passes to the
// template. Empty for an empty model_dir.
Result<nlohmann::ordered_json> template_special_tokens(const std::string& model_dir);

}  // namespace minke
