// ScriptedRunner: per sequence, the script whose trigger the prompt contains; the token
// emitted at a step is the script's num_generated()-th (then the end token).
#include "engine/scripted_runner.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace minke {

ScriptedRunner::ScriptedRunner(int64_t vocab_size, std::vector<Script> scripts, int32_t end_token,
                               Decode decode)
    : vocab_(vocab_size), scripts_(std::move(scripts)), end_token_(end_token), decode_(std::move(decode)) {}

int32_t ScriptedRunner::next_token(const Sequence& seq) {
  auto it = chosen_.find(seq.id);
  if (it == chosen_.end()) {
    const std::string prompt = decode_(std::span<const int32_t>(seq.tokens.data(), size_t(seq.prompt_len)));
    int pick = -1;
    for (size_t i = 0; i < scripts_.size() && pick < 0; ++i)
      if (prompt.find(scripts_[i].trigger) != std::string::npos) pick = int(i);
    it = chosen_.emplace(seq.id, pick).first;
  }
  if (it->second < 0) return end_token_;
  const std::vector<int32_t>& tokens = scripts_[size_t(it->second)].tokens;
  const int64_t k = seq.num_generated();
  return k < int64_t(tokens.size()) ? tokens[size_t(k)] : end_token_;
}

Result<Tensor> ScriptedRunner::run(const SchedulerOutput& step) {
  int64_t rows = 0;
  for (const ScheduledSeq& s : step.scheduled) rows += s.sample ? 1 : 0;
  Tensor logits = Tensor::zeros(DType::kF32, {rows, vocab_});
  float* row = logits.data<float>();
  for (const ScheduledSeq& s : step.scheduled) {
    if (!s.sample) continue;
    const int32_t tok = next_token(*s.seq);
    if (tok < 0 || tok >= vocab_) return invalid_argument("scripted token {} is outside the vocabulary", tok);
    row[tok] = 50.0f;
    row += vocab_;
  }
  return logits;
}

Result<std::vector<Script>> load_scripts(
    const std::string& path, const std::function<std::vector<int32_t>(const std::string&)>& encode) {
  std::ifstream in(path);
  if (!in) return io_error("cannot open the script file {}", path);
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_array()) return invalid_argument("{}: a script file is a JSON list of {{trigger, output}}", path);
  std::vector<Script> scripts;
  for (const auto& entry : doc) {
    if (!entry.is_object() || !entry.contains("output") || !entry["output"].is_string() ||
        (entry.contains("trigger") && !entry["trigger"].is_string()))
      return invalid_argument("{}: each script needs a string 'output' and an optional string 'trigger'", path);
    scripts.push_back({entry.value("trigger", ""), encode(entry["output"].get<std::string>())});
  }
  return scripts;
}

}  // namespace minke
