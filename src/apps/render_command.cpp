// `minke render --jsonl`: renders chat templates for requests read as JSON lines on stdin,
// writing one {"text": ...} or {"error": ...} line per input line, in order, flushed per line.
// A request is {"messages", "tools", "add_generation_prompt", ...other keys as template
// kwargs}; bos_token, eos_token and the other special tokens default to the model's.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "chat/chat_template.h"
#include "chat/template_source.h"
#include "model/demo_model.h"

namespace minke {
namespace {

using ojson = nlohmann::ordered_json;

struct RenderOptions {
  std::string model_dir;
  std::string chat_template;
  std::string template_name;
  bool jsonl = false;
};

Result<std::string> render_line(const ChatTemplate& tmpl, const ojson& defaults, const std::string& line) {
  ojson request;
  try {
    request = ojson::parse(line);
  } catch (const ojson::exception& e) {
    return invalid_argument("invalid JSON: {}", e.what());
  }
  if (!request.is_object()) return invalid_argument("a request must be a JSON object");
  if (!request.contains("messages")) return invalid_argument("a request needs \"messages\"");
  const ojson& add = request.contains("add_generation_prompt") ? request["add_generation_prompt"] : ojson(false);
  if (!add.is_boolean()) return invalid_argument("\"add_generation_prompt\" must be true or false");
  ojson kwargs = defaults;
  for (const auto& [key, value] : request.items())
    if (key != "messages" && key != "tools" && key != "add_generation_prompt") kwargs[key] = value;
  const ojson tools = request.contains("tools") ? request["tools"] : ojson();
  return tmpl.render(request["messages"], tools, add.get<bool>(), kwargs);
}

int run_render(RenderOptions opt) {
  if (opt.model_dir.empty() && opt.chat_template.empty()) {  // neither: the demo model
    const Result<std::string> demo = model_dir_or_demo("");
    if (!demo.is_ok()) {
      std::cerr << "minke render: " << demo.status().to_string() << "\n";
      return 1;
    }
    opt.model_dir = *demo;
  }
  Result<std::string> source = opt.chat_template.empty()
                                   ? chat_template_from_model(opt.model_dir, opt.template_name)
                                   : chat_template_from_argument(opt.chat_template);
  if (!source.is_ok()) {
    std::cerr << "minke render: " << source.status().to_string() << "\n";
    return 1;
  }
  Result<ChatTemplate> tmpl = ChatTemplate::compile(*source);
  if (!tmpl.is_ok()) {
    std::cerr << "minke render: " << tmpl.status().message() << "\n";
    return 1;
  }
  Result<ojson> defaults = template_special_tokens(opt.model_dir);
  if (!defaults.is_ok()) {
    std::cerr << "minke render: " << defaults.status().to_string() << "\n";
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Result<std::string> text = render_line(*tmpl, *defaults, line);
    ojson out = ojson::object();
    if (text.is_ok()) out["text"] = *text;
    else out["error"] = text.status().message();
    // Rendered text is valid UTF-8 (templates and JSON input are); replace just in case.
    std::cout << out.dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n' << std::flush;
  }
  return 0;
}

}  // namespace

Command add_render_command(CLI::App& app) {
  auto opt = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand(
      "render", "Render chat templates for JSON-line requests on stdin (one result line each)");
  cmd->add_option("--model", opt->model_dir,
                  "Model directory: its tokenizer_config.json gives the template and bos/eos tokens "
                  "(default, without --chat-template: the demo model)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--chat-template", opt->chat_template,
                  "Template file, or the template itself; overrides the model's");
  cmd->add_option("--template-name", opt->template_name,
                  "Named template of tokenizer_config.json (default: \"default\")");
  cmd->add_flag("--jsonl", opt->jsonl, "Read and write JSON lines (the only mode)")->required();
  return {cmd, [opt] { return run_render(*opt); }};
}

}  // namespace minke
