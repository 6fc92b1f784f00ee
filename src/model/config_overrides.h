// vLLM's --hf-overrides applied to a parsed config.json before ModelConfig validates it
// (internal to minke_model). Errors say "hf_overrides" and name the field.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

#include "core/status.h"

namespace minke {

// `overrides_text`: a JSON object. Each field replaces config's field of the same name, as
// vLLM does (e.g. {"num_hidden_layers": 4}); an object merges into the config's object field by
// field ({"rope_scaling": {"factor": 8}}); null removes the field (Hugging Face reads absent and
// null alike). A field must be one config.json has or one minke reads, and a scalar must keep
// the JSON type config.json gives it (a number stays a number); ModelConfig checks the rest.
Status apply_hf_overrides(nlohmann::json& config, const std::string& overrides_text);

}  // namespace minke
