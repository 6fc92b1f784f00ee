// `minke generate`: offline generation through the Engine (continuous batching, the
// same path the server uses). Prompts come from --prompt / --chat (repeatable) or a
// JSONL --input-file of {"prompt": ...}, {"prompt_token_ids": [...]} or {"messages": [...]};
// all run concurrently. One prompt streams its text; several print in order when done.
// A summary (tokens/s, time to first token) goes to stderr. Default model: the demo.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/engine_stack.h"
#include "chat/chat_template.h"
#include "chat/template_source.h"

namespace minke {
namespace {

struct GenerateOptions {
  EngineArgs engine;
  std::vector<std::string> prompts;
  std::vector<std::string> chats;
  std::string system;
  std::string input_file;
  std::string chat_template;
  SamplingParams sampling{0.0f};
  int max_tokens = 64;
  bool output_ids = false;
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Every prompt as token ids, in order.
Result<std::vector<std::vector<int32_t>>> collect_prompts(const GenerateOptions& o, const EngineStack& s) {
  std::optional<ChatTemplate> tmpl;
  auto render = [&](nlohmann::ordered_json messages) -> Result<std::vector<int32_t>> {
    if (!tmpl) {
      Result<std::string> src = o.chat_template.empty() ? chat_template_from_model(s.model_dir)
                                                        : chat_template_from_argument(o.chat_template);
      if (!src.is_ok()) return src.status();
      MINKE_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::compile(*src));
      tmpl.emplace(std::move(t));
    }
    MINKE_ASSIGN_OR_RETURN(const nlohmann::ordered_json kwargs, template_special_tokens(s.model_dir));
    MINKE_ASSIGN_OR_RETURN(std::string text, tmpl->render(messages, nullptr, true, kwargs));
    return s.tokenizer->encode(text, /*add_special_tokens=*/false);  // the template writes BOS itself
  };
  std::vector<std::vector<int32_t>> out;
  for (const auto& p : o.prompts) out.push_back(s.tokenizer->encode(p, true));
  for (const auto& c : o.chats) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", c}});
    MINKE_ASSIGN_OR_RETURN(std::vector<int32_t> ids, render(messages));
    out.push_back(std::move(ids));
  }
  if (!o.input_file.empty()) {
    std::ifstream in(o.input_file);
    if (!in) return not_found("--input-file {}: cannot read", o.input_file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const auto j = nlohmann::ordered_json::parse(line, nullptr, false);
      const auto where = [&] { return fmt::format("--input-file {}:{}", o.input_file, n); };
      if (j.is_discarded() || !j.is_object()) return invalid_argument("{}: not a JSON object", where());
      if (j.contains("prompt") && j["prompt"].is_string()) {
        out.push_back(s.tokenizer->encode(j["prompt"].get<std::string>(), true));
      } else if (j.contains("prompt_token_ids") && j["prompt_token_ids"].is_array()) {
        std::vector<int32_t> ids;
        for (const auto& v : j["prompt_token_ids"]) {
          if (!v.is_number_integer()) return invalid_argument("{}: prompt_token_ids must be integers", where());
          ids.push_back(v.get<int32_t>());
        }
        out.push_back(std::move(ids));
      } else if (j.contains("messages") && j["messages"].is_array()) {
        Result<std::vector<int32_t>> ids = render(j["messages"]);
        if (!ids.is_ok()) return ids.status().with_context(where());
        out.push_back(std::move(*ids));
      } else {
        return invalid_argument("{}: expected \"prompt\", \"prompt_token_ids\" or \"messages\"", where());
      }
    }
  }
  if (out.empty()) out.push_back(*render({{{"role", "user"}, {"content", "Hello! Who are you?"}}}));
  return out;
}

Status generate(const GenerateOptions& o) {
  const auto t_load = Clock::now();
  MINKE_ASSIGN_OR_RETURN(std::unique_ptr<EngineStack> s, build_engine_stack(o.engine));
  MINKE_ASSIGN_OR_RETURN(auto prompts, collect_prompts(o, *s));
  const double load_secs = since(t_load);
  SamplingParams params = o.sampling;
  params.max_tokens = o.max_tokens;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (auto& p : prompts) {
    EngineRequest r;
    r.prompt = p;
    r.params = params;
    MINKE_ASSIGN_OR_RETURN(auto stream, s->engine->submit(std::move(r)));
    streams.push_back(stream);
  }
  const auto t0 = Clock::now();
  s->engine->start();
  const bool stream_live = streams.size() == 1 && params.n == 1 && !o.output_ids;
  std::vector<double> ttft;
  int64_t prompt_tokens = 0, generated = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    std::vector<std::string> texts(size_t(params.n));
    std::vector<std::vector<int32_t>> ids(size_t(params.n));
    std::vector<std::string> reasons(size_t(params.n));
    bool first = true;
    while (auto ev = streams[i]->next()) {
      if (first && !ev->token_ids.empty()) {
        ttft.push_back(std::chrono::duration<double>(ev->emitted - t0).count());
        first = false;
      }
      generated += int64_t(ev->token_ids.size());
      texts[ev->index] += ev->text;
      ids[ev->index].insert(ids[ev->index].end(), ev->token_ids.begin(), ev->token_ids.end());
      if (stream_live) {
        std::fputs(ev->text.c_str(), stdout);
        std::fflush(stdout);
      }
      if (ev->finish) {
        reasons[ev->index] = std::string(finish_reason_name(*ev->finish));
        if (*ev->finish == FinishReason::kError) return ev->error;
      }
    }
    prompt_tokens += streams[i]->prompt_tokens();
    if (stream_live) {
      std::fputs("\n", stdout);
      continue;
    }
    for (int k = 0; k < params.n; ++k) {
      const std::string body = o.output_ids ? nlohmann::json(ids[k]).dump() : texts[k];
      std::printf("[%zu%s] %s\n    (finish: %s)\n", i, params.n > 1 ? fmt::format(".{}", k).c_str() : "",
                  body.c_str(), reasons[k].c_str());
    }
  }
  const double secs = since(t0);
  s->engine->stop();
  std::sort(ttft.begin(), ttft.end());
  const EngineStats st = s->engine->stats();
  std::fprintf(stderr,
               "minke generate: %s | %zu requests, %lld prompt + %lld generated tokens in %.2f s "
               "(load %.2f s) | %.1f generated tokens/s | time to first token median %.1f ms | "
               "%lld steps, %lld preemptions\n",
               s->model_dir.c_str(), streams.size(), (long long)prompt_tokens, (long long)generated,
               secs, load_secs, double(generated) / secs, ttft.empty() ? 0.0 : ttft[ttft.size() / 2] * 1e3,
               (long long)st.steps, (long long)st.preemptions);
  return Status::ok();
}

}  // namespace

Command add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text offline through the engine (default model: the built-in demo)");
  cmd->add_option("--prompt", o->prompts, "Raw prompt text, BOS added (repeatable)");
  cmd->add_option("--chat", o->chats, "A user message rendered with the chat template (repeatable)");
  cmd->add_option("--system", o->system, "System message for --chat");
  cmd->add_option("--input-file", o->input_file, "JSONL of {\"prompt\"}, {\"prompt_token_ids\"} or {\"messages\"}")
      ->check(CLI::ExistingFile);
  cmd->add_option("--chat-template", o->chat_template, "Chat template file (default: the model's)");
  cmd->add_flag("--output-ids", o->output_ids, "Print token ids instead of text");
  SamplingParams& p = o->sampling;
  cmd->add_option("--max-tokens", o->max_tokens, "Tokens to generate per completion")->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", p.temperature, "0 (the default here) is greedy");
  cmd->add_option("--top-p", p.top_p);
  cmd->add_option("--top-k", p.top_k);
  cmd->add_option("--min-p", p.min_p);
  cmd->add_option("--presence-penalty", p.presence_penalty);
  cmd->add_option("--frequency-penalty", p.frequency_penalty);
  cmd->add_option("--repetition-penalty", p.repetition_penalty);
  cmd->add_option("--seed", p.seed, "Per-request seed");
  cmd->add_option("--min-tokens", p.min_tokens);
  cmd->add_option("--stop", p.stop, "Stop strings (not included in the output)");
  cmd->add_option("--stop-token-ids", p.stop_token_ids);
  cmd->add_flag("--ignore-eos", p.ignore_eos);
  cmd->add_option("-n,--n", p.n, "Completions per prompt");
  add_engine_flags(*cmd, o->engine);
  return {cmd, [o] {
            const Status st = generate(*o);
            if (st.is_ok()) return 0;
            std::fprintf(stderr, "minke generate: %s\n", st.to_string().c_str());
            return 2;
          }};
}

}  // namespace minke
