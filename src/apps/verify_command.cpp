// `minke verify` flags -> VerifyOptions -> run_verify.
#include <map>
#include <memory>

#include "apps/command.h"
#include "apps/verify.h"

namespace minke {

Command add_verify_command(CLI::App& app) {
  auto opt = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Check the model against the golden outputs in MODEL_DIR");
  cmd->add_option("model_dir", opt->model_dir, "Model directory with reference.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--tag", opt->tags, "Golden tag(s) to check: bf16, w8a16, w8a8 (default: all)");
  cmd->add_option("--case", opt->case_filter, "Only the case with this name");
  const std::map<std::string, MlaMode> modes{
      {"auto", MlaMode::kAuto}, {"naive", MlaMode::kNaive}, {"absorbed", MlaMode::kAbsorbed}};
  cmd->add_option("--mla", opt->mla_mode, "MLA formulation: auto, naive or absorbed")
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  add_device_flags(*cmd, opt->device);
  cmd->add_option("--logits-tol", opt->logits_tol, "Bound on the logits' relative error");
  cmd->add_option("--mtp-tol", opt->mtp_tol, "Bound on the MTP logits' relative error");
  cmd->add_option("--w8a8-semantics", opt->w8a8_semantics,
                  "Linears the w8a8 goldens quantized: deepseek (all FP8 linears) or "
                  "transformers (all but routed experts); default from reference.json")
      ->check(CLI::IsMember({"deepseek", "transformers"}));
  cmd->add_option("--greedy-margin", opt->greedy_margin,
                  "Compare greedy tokens up to the first golden top-2 margin below this");
  cmd->add_flag("--through-engine", opt->through_engine,
                "Run all cases concurrently through the engine (chunked prefill, preemption)");
  return {cmd, [opt] { return opt->through_engine ? run_verify_through_engine(*opt) : run_verify(*opt); }};
}

}  // namespace minke
