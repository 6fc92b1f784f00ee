// `minke verify MODEL_DIR`: runs the model on the golden cases of reference.json
// and checks logits, MTP logits and greedy continuations against the goldens.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/device_choice.h"
#include "model/layer_context.h"

namespace minke {

struct VerifyOptions {
  std::string model_dir;
  std::vector<std::string> tags;  // empty: every tag in reference.json
  std::string case_filter;        // empty: every case; else only cases with this name
  MlaMode mla_mode = MlaMode::kAuto;
  DeviceArgs device;              // --device, --threads (CPU)
  // Overrides of the per-tag bounds (see verify.cpp for the defaults and why).
  std::optional<double> logits_tol;
  std::optional<double> mtp_tol;
  std::optional<double> greedy_margin;
  // Which linears the w8a8 goldens quantized: "deepseek" or "transformers"
  // (default: reference.json's "w8a8_semantics", else "transformers").
  std::string w8a8_semantics;
  bool through_engine = false;
};

// Returns the process exit code: 0 when every bound holds, 1 when one is missed,
// 2 when the model or the goldens cannot be loaded.
int run_verify(const VerifyOptions& options);

// All cases of every tag (but w8a8) concurrently through the Engine, with chunked
// prefill and preemption forced; greedy tokens must equal the goldens.
int run_verify_through_engine(const VerifyOptions& options);

}  // namespace minke
