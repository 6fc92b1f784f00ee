// DeepseekV3: the whole model (embedding, decoder layers, final norm, LM head, and
// the MTP modules) over a paged latent KV cache, on any backend. One call runs one
// step for a batch of sequences: prefill, decode, or a mix.
#pragma once

#include <span>

#include "backend/backend.h"
#include "comm/communicator.h"
#include "model/config.h"
#include "model/layer_context.h"
#include "model/rope.h"
#include "model/weights.h"

namespace minke {

struct ModelOptions {
  MlaMode mla_mode = MlaMode::kAuto;
};

struct ForwardInput {
  Tensor token_ids;     // I32 [T] host
  AttentionBatch batch;  // host; see backend.h
  Tensor logit_rows;    // I32 [N] host: which of the T tokens get logits (e.g. each sequence's last)
};

struct ForwardOutput {
  Tensor logits;  // F32 [N, vocab] on the backend
  Tensor hidden;  // [T, hidden] on the backend: the residual stream after the last
                  // decoder layer, BEFORE the final norm (what MTP consumes)
};

class DeepseekV3 {
 public:
  DeepseekV3(ModelConfig config, ModelWeights weights, Backend& backend, Communicator& comm,
             ModelOptions options = {});

  const ModelConfig& config() const { return config_; }
  int64_t num_mtp_modules() const { return int64_t(weights_.mtp.size()); }
  // Latent-cache layers the model uses: the decoder layers, then one per MTP module.
  int64_t num_cache_layers() const { return config_.num_hidden_layers + num_mtp_modules(); }
  int64_t latent_dim() const { return config_.kv_latent_dim(); }

  // The main model. kv_cache[i] is layer i's cache [num_pages, page_size, latent_dim()];
  // at least num_hidden_layers entries.
  Result<ForwardOutput> forward(const ForwardInput& in, std::span<Tensor> kv_cache);

  // MTP module `k`: token_ids holds the NEXT token of each position (t_{i+1}) and
  // `hidden` the main model's pre-norm hidden state at each position (h_i); the
  // positions and cache layout are those of h. Uses kv_cache[num_hidden_layers + k].
  Result<ForwardOutput> forward_mtp(int64_t k, const ForwardInput& in, const Tensor& hidden,
                                    std::span<Tensor> kv_cache);

  // Decoder layer `layer` alone, exactly as forward() runs it, on the hidden states x
  // [T, hidden] (activation dtype, on the backend; updated in place): no embedding, final norm
  // or LM head; in.logit_rows is not used. Like one layer of forward() it does not wait for the
  // device: faults in its ops surface at the caller's next backend.take_error() (forward() calls
  // it once per pass). For benchmarks (`minke bench kernels` times back-to-back calls).
  Status forward_layer(int64_t layer, const ForwardInput& in, Tensor& x, std::span<Tensor> kv_cache);

 private:
  Status validate(const ForwardInput& in, std::span<Tensor> kv_cache, int64_t layer) const;
  StepInputs step_inputs(const ForwardInput& in) const;
  LayerContext layer_context() const;
  Status decoder_layer(const DecoderLayerWeights& w, Tensor& x, const StepInputs& step,
                       Tensor& cache);
  Result<Tensor> logits(const Tensor& x, const Tensor& rows, const Tensor& norm,
                        const LinearWeight& head);

  ModelConfig config_;
  ModelWeights weights_;
  Backend& backend_;
  Communicator& comm_;
  ModelOptions options_;
  RopeParams rope_;
  Tensor inv_freq_;  // F32 [rope / 2] on the backend
  RouterParams router_;
};

}  // namespace minke
