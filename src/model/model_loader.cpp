// load_deepseek_v3: config (with hf_overrides), then the weights from the checkpoint or, with
// LoadFormat::kDummy, made on the backend; each error prefixed with what failed.
#include "model/model_loader.h"

#include <filesystem>

#include "checkpoint/checkpoint.h"
#include "model/dummy_weights.h"

namespace minke {

Result<std::unique_ptr<DeepseekV3>> load_deepseek_v3(const std::string& model_dir,
                                                     Backend& backend, Communicator& comm,
                                                     const LoadOptions& load_options,
                                                     const ModelOptions& model_options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model_dir, ec))
    return not_found("model directory '{}' does not exist or is not a directory", model_dir);
  MINKE_ASSIGN_OR_RETURN(ModelConfig config,
                         ModelConfig::from_file((std::filesystem::path(model_dir) / "config.json").string(),
                                                load_options.hf_overrides));
  Result<ModelWeights> weights = internal_error("no weights");
  if (load_options.format == LoadFormat::kDummy) {
    const DummyWeightSource dummy(config, load_options.parallel, &backend);
    weights = load_weights(dummy, config, load_options, backend);
    if (weights.is_ok()) {  // the fills are ops: surface a device fault now, not at the first step
      backend.synchronize();
      if (Status st = backend.take_error(); !st.is_ok()) weights = std::move(st);
    }
    if (!weights.is_ok()) return weights.status().with_context(model_dir + " (dummy weights)");
  } else {
    MINKE_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::open(model_dir));
    weights = load_weights(checkpoint, config, load_options, backend);
    if (!weights.is_ok()) return weights.status().with_context(model_dir);
  }
  return std::make_unique<DeepseekV3>(std::move(config), std::move(weights).value(), backend, comm,
                                      model_options);
}

}  // namespace minke
