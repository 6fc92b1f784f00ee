// `minke serve`: the OpenAI-compatible server. The HTTP server starts first (/health answers
// 503 while the model loads, with progress on stderr); SIGTERM/SIGINT drain: no new requests,
// in-flight ones get --shutdown-timeout seconds, then end with finish_reason "abort".
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>

#include "apps/command.h"
#include "apps/engine_stack.h"
#include "chat/template_source.h"
#include "model/demo_model.h"
#include "openai/openai_server.h"
#include "server/http_server.h"

namespace minke {
namespace {

struct ServeOptions {
  EngineArgs engine;
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::string served_model_name;
  std::string api_key;
  std::string chat_template;
  std::string tool_call_parser;
  std::string reasoning_parser;
  int64_t max_num_waiting = 0;
  double shutdown_timeout = 30;
  std::string max_request_body = "32MiB";
};

void log(const std::string& line) {
  std::fprintf(stderr, "minke serve: %s\n", line.c_str());
  std::fflush(stderr);
}

// The chat template: --chat-template, else the model's; a model without one serves
// completions only. A template that does not compile stops the server.
Result<std::optional<ChatTemplate>> load_chat_template(const ServeOptions& o, const std::string& model_dir) {
  Result<std::string> source = o.chat_template.empty() ? chat_template_from_model(model_dir)
                                                       : chat_template_from_argument(o.chat_template);
  if (!source.is_ok()) {
    if (!o.chat_template.empty() || source.status().code() != StatusCode::kNotFound) return source.status();
    log("the model has no chat template; /v1/chat/completions needs --chat-template");
    return std::optional<ChatTemplate>();
  }
  MINKE_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::compile(*source));
  return std::optional<ChatTemplate>(std::move(t));
}

// Waits for SIGINT/SIGTERM (true) or an engine fault (false).
bool wait_for_signal(const sigset_t& signals, const Engine& engine) {
  const timespec tick{0, 200'000'000};
  while (true) {
    if (sigtimedwait(&signals, nullptr, &tick) > 0) return true;
    if (!engine.fault().is_ok()) return false;
  }
}

int serve(ServeOptions o) {
  OpenAiServerConfig config;
  config.api_key = o.api_key;
  config.max_num_waiting = o.max_num_waiting;
  config.reasoning_parser = o.reasoning_parser == "deepseek_r1";
  if (!o.tool_call_parser.empty()) config.tool_call_parser = tool_call_format_from_name(o.tool_call_parser);
  // Signals are taken synchronously by this thread (sigtimedwait), before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  HttpServerConfig http_config;
  http_config.host = o.host;
  http_config.port = o.port;
  Result<int64_t> body_limit = parse_bytes(o.max_request_body);
  if (!body_limit.is_ok() || *body_limit <= 0) {
    log("--max-request-body: " + (body_limit.is_ok() ? std::string("must be positive") : body_limit.status().message()));
    return 2;
  }
  http_config.max_body_bytes = size_t(*body_limit);
  // The demo model is written (once, into the cache) before listening, so that its path,
  // the default model name, is known.
  Result<std::string> model_dir = model_dir_or_demo(o.engine.model_dir);
  if (!model_dir.is_ok()) {
    log(model_dir.status().to_string());
    return 2;
  }
  o.engine.model_dir = *model_dir;
  config.served_model_name = o.served_model_name.empty() ? *model_dir : o.served_model_name;
  auto server = std::make_unique<OpenAiServer>(config);
  HttpServer http(http_config);
  server->install(http);
  if (const Status st = http.start(); !st.is_ok()) {
    log(st.to_string());
    return 2;
  }
  log("listening on http://" + o.host + ":" + std::to_string(http.port()) + " (/health answers 503 until the model is loaded)");
  log("loading " + o.engine.model_dir + " ...");
  o.engine.on_layer_loaded = [](int64_t done, int64_t total) {
    if (done == total || (done * 10 / total) != ((done - 1) * 10 / total))
      log("loading weights: layer " + std::to_string(done) + "/" + std::to_string(total));
  };
  auto stack = build_engine_stack(o.engine);
  if (!stack.is_ok()) {
    log(stack.status().to_string());
    return 2;
  }
  EngineStack& s = **stack;
  log(s.summary);
  auto chat_template = load_chat_template(o, s.model_dir);
  auto special = template_special_tokens(s.model_dir);
  if (!chat_template.is_ok() || !special.is_ok()) {
    log((chat_template.is_ok() ? special.status() : chat_template.status()).to_string());
    return 2;
  }
  ServedModel model;
  model.engine = s.engine.get();
  model.tokenizer = s.tokenizer.get();
  model.max_model_len = s.max_model_len;
  model.vocab_size = s.runner->vocab_size();
  model.chat_template = std::move(*chat_template);
  model.special_tokens = std::move(*special);
  s.engine->start();
  server->set_ready(std::move(model));
  std::printf("minke serve: ready on http://%s:%u (model '%s')\n"
              "  curl http://%s:%u/v1/chat/completions -H 'Content-Type: application/json' "
              "-d '{\"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}], \"max_tokens\": 32}'\n",
              o.host.c_str(), http.port(), config.served_model_name.c_str(), o.host.c_str(), http.port());
  std::fflush(stdout);

  const bool signalled = wait_for_signal(signals, *s.engine);
  log(signalled ? "shutting down: draining requests in flight" : "the engine failed: " + s.engine->fault().message());
  server->begin_drain();
  http.begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(signalled ? o.shutdown_timeout : 0);
  while (server->calls_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (server->calls_in_flight() > 0) {
    log(std::to_string(server->calls_in_flight()) + " requests still running: aborting them");
    server->abort_all();
    const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (server->calls_in_flight() > 0 && std::chrono::steady_clock::now() < grace)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  http.stop(std::chrono::seconds(5));  // lets the last bytes flush
  s.engine->stop();
  return signalled ? 0 : 1;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible server (default model: the built-in demo)");
  cmd->add_option("--host", o->host, "Address to listen on");
  cmd->add_option("--port", o->port, "Port to listen on (0: any free port)");
  cmd->add_option("--served-model-name", o->served_model_name, "The model name clients use (default: the model path)");
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY'");
  add_engine_flags(*cmd, o->engine);
  cmd->add_option("--chat-template", o->chat_template, "Chat template file or text (default: the model's)");
  cmd->add_option("--tool-call-parser", o->tool_call_parser, "Tool-call format of the model's output")
      ->check(CLI::IsMember({"deepseek_v3", "deepseek_v31"}));
  cmd->add_option("--reasoning-parser", o->reasoning_parser, "Split <think> reasoning into reasoning_content")
      ->check(CLI::IsMember({"deepseek_r1"}));
  cmd->add_option("--max-num-waiting", o->max_num_waiting,
                  "Waiting requests at most; more get 503 with Retry-After (0: no limit)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--shutdown-timeout", o->shutdown_timeout,
                  "Seconds in-flight requests get after SIGTERM before they are aborted")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-request-body", o->max_request_body, "Largest request body (larger: 413)");
  return {cmd, [o] { return serve(*o); }};
}

}  // namespace minke
