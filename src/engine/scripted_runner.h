// ScriptedRunner: a test seam. A StepRunner that makes each sequence emit a given token
// sequence, then an end token, instead of running a model, so that everything above the
// model (engine, tokenizer, templates, parsers, server, clients) is tested on known output.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/model_runner.h"

namespace minke {

struct Script {
  std::string trigger;          // chosen when the decoded prompt contains this ("" matches all)
  std::vector<int32_t> tokens;  // emitted in order; then `end_token` for ever
};

class ScriptedRunner final : public StepRunner {
 public:
  using Decode = std::function<std::string(std::span<const int32_t>)>;
  // Scripts are tried in order; a prompt no trigger matches emits `end_token` at once.
  ScriptedRunner(int64_t vocab_size, std::vector<Script> scripts, int32_t end_token, Decode decode);

  int64_t vocab_size() const override { return vocab_; }
  // Logits are 0 except +50 on the scripted token: greedy and random sampling (without
  // penalties or biases that outweigh 50) both pick it; logprobs stay finite.
  Result<Tensor> run(const SchedulerOutput& step) override;

 private:
  int32_t next_token(const Sequence& seq);

  int64_t vocab_;
  std::vector<Script> scripts_;
  int32_t end_token_;
  Decode decode_;
  std::unordered_map<uint64_t, int> chosen_;  // sequence id -> script index (-1: none)
};

// Reads a JSON script file: [{"trigger": "...", "output": "text"}, ...]; each output is
// tokenized by `encode` (special tokens such as tool-call markers become single tokens).
Result<std::vector<Script>> load_scripts(
    const std::string& path, const std::function<std::vector<int32_t>(const std::string&)>& encode);

}  // namespace minke
