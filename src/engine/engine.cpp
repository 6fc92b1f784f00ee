// Engine (see engine.h). A request becomes n Completions, each a scheduler
// Sequence with its own sampler, token counts, detokenizer and stop matcher. With
// n > 1, completions 1..n-1 are admitted once completion 0 has computed the prompt,
// so they take its full blocks from the prefix cache instead of recomputing them.
#include "engine/engine.h"

#include <algorithm>

namespace minke {

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
    case FinishReason::kError: return "error";
  }
  return "error";
}

struct Engine::Completion {
  Sequence seq;
  int index = 0;
  SequenceTokens tokens;
  uint64_t seed = 0;  // the sampler's seed (Sampler::seed_for)
  Sampler sampler;
  std::optional<IncrementalDetokenizer> detok;
  StopMatcher stops;
  bool admitted = false, done = false;
  Request* request = nullptr;
};

struct Engine::Request {
  uint64_t id = 0;
  EngineRequest req;
  std::vector<std::unique_ptr<Completion>> completions;
  std::weak_ptr<RequestStream> stream;
  int open = 0;
};

// ---- RequestStream ----------------------------------------------------------------------

RequestStream::~RequestStream() {
  bool open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open = open_ > 0;
  }
  if (open) engine_->abort(id_);
}

void RequestStream::push(RequestOutput out) {
  out.emitted = std::chrono::steady_clock::now();
  std::function<void()> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (out.finish) --open_;
    events_.push_back(std::move(out));
    listener = listener_;
  }
  cv_.notify_all();
  if (listener) listener();
}

std::optional<RequestOutput> RequestStream::try_next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (events_.empty()) return std::nullopt;
  RequestOutput out = std::move(events_.front());
  events_.pop_front();
  return out;
}

bool RequestStream::drained() {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.empty() && open_ == 0;
}

void RequestStream::set_listener(std::function<void()> listener) {
  std::function<void()> call_now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    listener_ = std::move(listener);
    if (!events_.empty()) call_now = listener_;  // events that arrived before the listener
  }
  if (call_now) call_now();
}

std::optional<RequestOutput> RequestStream::next() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !events_.empty() || open_ == 0; });
  if (events_.empty()) return std::nullopt;
  RequestOutput out = std::move(events_.front());
  events_.pop_front();
  return out;
}

void RequestStream::cancel() { engine_->abort(id_); }

// ---- Engine -------------------------------------------------------------------------------

Engine::Engine(const EngineConfig& config, StepRunner& runner, KvCacheManager& kv,
               const Tokenizer* tokenizer, std::vector<int32_t> eos_ids, BatchSampler* sampler)
    : config_(config),
      runner_(runner),
      kv_(kv),
      scheduler_(config.scheduler, kv),
      tokenizer_(tokenizer),
      eos_ids_(std::move(eos_ids)),
      own_sampler_(sampler ? nullptr : std::make_unique<HostBatchSampler>()),
      sampler_(sampler ? sampler : own_sampler_.get()) {}

Engine::~Engine() { stop(); }

Result<std::shared_ptr<RequestStream>> Engine::submit(EngineRequest request) {
  if (Status f = fault(); !f.is_ok()) return unavailable("the engine failed and serves no more requests: {}", f.message());
  MINKE_TRY(request.params.validate(runner_.vocab_size()));
  for (int32_t t : request.prompt)
    if (t < 0 || t >= runner_.vocab_size())
      return invalid_argument("prompt token id {} is outside the vocabulary [0, {})", t,
                              runner_.vocab_size());
  if (request.prompt.empty()) return invalid_argument("the prompt is empty");
  if (!request.params.stop.empty() && tokenizer_ == nullptr)
    return invalid_argument("stop strings need a tokenizer");
  const int64_t limit = config_.scheduler.max_model_len;
  const int64_t prompt = int64_t(request.prompt.size());
  if (limit > 0 && prompt >= limit)
    return invalid_argument("this model's maximum context length is {} tokens, but the prompt has {}",
                            limit, prompt);
  if (!request.params.max_tokens)
    request.params.max_tokens = limit > 0 ? int(limit - prompt) : 16;  // OpenAI's default is 16
  if (request.params.min_tokens > *request.params.max_tokens)
    return invalid_argument("min_tokens ({}) must be <= max_tokens ({})", request.params.min_tokens,
                            *request.params.max_tokens);
  if (limit > 0 && prompt + *request.params.max_tokens > limit)
    return invalid_argument(
        "this model's maximum context length is {} tokens, but {} were requested ({} in the "
        "prompt, {} for the completion); shorten the prompt or lower max_tokens",
        limit, prompt + *request.params.max_tokens, prompt, *request.params.max_tokens);
  auto r = std::make_shared<Request>();
  r->req = std::move(request);
  std::shared_ptr<RequestStream> stream;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    r->id = next_request_id_++;
    stream.reset(new RequestStream(this, r->id, r->req.params.n, prompt));
    r->stream = stream;
    inbox_.push_back(r);
  }
  inbox_cv_.notify_all();
  return stream;
}

void Engine::abort(uint64_t request_id) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    aborts_.push_back(request_id);
  }
  inbox_cv_.notify_all();
}

void Engine::admit(Request& r, size_t index) {
  Completion& c = *r.completions[index];
  c.admitted = true;
  const Status st = scheduler_.add(&c.seq);
  if (st.is_ok()) return;
  RequestOutput out;
  out.index = c.index;
  out.error = st;
  finish(c, out, FinishReason::kError);
}

void Engine::drain_inbox() {
  std::vector<std::shared_ptr<Request>> added;
  std::vector<uint64_t> aborted;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    added.swap(inbox_);
    aborted.swap(aborts_);
    // Still waiting until the next publish_gauges(): stats() must never miss them
    // (the server's --max-num-waiting check reads it). Lock order: inbox_mu_, stats_mu_.
    int64_t prompt_tokens = 0;
    for (const auto& r : added) prompt_tokens += int64_t(r->req.prompt.size());
    std::lock_guard<std::mutex> stats_lock(stats_mu_);
    stats_.num_waiting += int64_t(added.size());
    stats_.prompt_tokens += prompt_tokens;
  }
  for (auto& r : added) {
    const SamplingParams& p = r->req.params;
    for (int i = 0; i < p.n; ++i) {
      const uint64_t seed = Sampler::seed_for(p, config_.seed + r->id, i);
      auto c = std::make_unique<Completion>(Completion{Sequence{}, i, SequenceTokens(r->req.prompt, eos_ids_),
                                                       seed, Sampler(seed), std::nullopt, StopMatcher(p.stop)});
      c->seq.id = next_seq_id_++;
      c->seq.tokens = r->req.prompt;
      c->seq.prompt_len = int64_t(r->req.prompt.size());
      c->seq.max_tokens = *p.max_tokens;
      c->seq.priority = r->req.priority;
      c->seq.cache_salt = r->req.cache_salt;
      if (tokenizer_) c->detok.emplace(*tokenizer_, p.skip_special_tokens);
      c->request = r.get();
      by_seq_[c->seq.id] = c.get();
      r->completions.push_back(std::move(c));
    }
    r->open = p.n;
    requests_[r->id] = r;
    admit(*r, 0);  // the others once it has computed the prompt (see the file comment)
  }
  for (uint64_t id : aborted) {
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    const std::shared_ptr<Request> r = it->second;  // finishing the last completion erases it
    for (auto& c : r->completions) {
      if (c->done) continue;
      RequestOutput out;
      out.index = c->index;
      finish(*c, out, FinishReason::kAbort);
    }
  }
}

void Engine::finish(Completion& c, RequestOutput& out, FinishReason reason) {
  c.done = true;
  out.finish = reason;
  if (reason == FinishReason::kLength || (reason == FinishReason::kStop && out.stop_reason.empty())) {
    if (c.detok) {  // flush what the detokenizer and the stop matcher held back
      const StopMatcher::Output tail = c.stops.feed(c.detok->finish());
      out.text += tail.text;
      if (!tail.stopped) out.text += c.stops.finish();
    }
  }
  if (c.admitted) scheduler_.finish(c.seq.id);
  by_seq_.erase(c.seq.id);
  Request* r = c.request;
  if (auto stream = r->stream.lock()) stream->push(std::move(out));
  if (--r->open == 0) requests_.erase(r->id);  // destroys r and c
}

// All rows of the step at once (logits row i belongs to sampling[i]); nothing is emitted
// unless every row was sampled.
Status Engine::sample(std::span<Completion* const> sampling, const Tensor& logits) {
  if (sampling.empty()) return Status::ok();
  sample_rows_.clear();
  for (Completion* c : sampling) {
    const SamplingParams& p = c->request->req.params;
    sample_rows_.push_back(SampleRow{&p, &c->tokens, &c->sampler, c->seed, c->tokens.num_generated(),
                                     p.logprobs ? *p.logprobs : -1});
  }
  MINKE_TRY(sampler_->sample(logits, sample_rows_, sample_results_));
  if (sample_results_.size() != sampling.size())
    return internal_error("the sampler returned {} tokens for {} rows", sample_results_.size(), sampling.size());
  for (const SampleResult& res : sample_results_)
    if (res.token < 0 || res.token >= runner_.vocab_size())
      return internal_error("the sampler returned token {} outside the vocabulary [0, {})", res.token,
                            runner_.vocab_size());
  for (size_t i = 0; i < sampling.size(); ++i) emit(*sampling[i], sample_results_[i]);
  return Status::ok();
}

void Engine::emit(Completion& c, SampleResult& result) {
  const SamplingParams& p = c.request->req.params;
  RequestOutput out;
  out.index = c.index;
  const int32_t tok = result.token;
  if (result.logprobs) out.logprobs.push_back(std::move(*result.logprobs));
  c.seq.tokens.push_back(tok);
  c.tokens.add_output(tok);
  out.token_ids.push_back(tok);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.generated_tokens;
  }
  // n > 1: the prompt is now computed and its full blocks cached; admit the others.
  Request& r = *c.request;
  if (c.index == 0 && c.seq.num_generated() == 1)
    for (size_t i = 1; i < r.completions.size(); ++i)
      if (!r.completions[i]->admitted && !r.completions[i]->done) admit(r, i);

  if (is_stop_token(tok, p, c.tokens)) {
    if (std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), tok) != p.stop_token_ids.end())
      out.stop_token = tok;
    return finish(c, out, FinishReason::kStop);
  }
  if (c.detok) {
    const StopMatcher::Output piece = c.stops.feed(c.detok->add(tok));
    out.text = piece.text;
    if (piece.stopped) {
      out.stop_reason = p.stop[*c.stops.matched()];
      if (p.include_stop_str_in_output) out.text += out.stop_reason;
      return finish(c, out, FinishReason::kStop);
    }
  }
  if (c.seq.num_generated() >= c.seq.max_tokens) return finish(c, out, FinishReason::kLength);
  if (auto stream = r.stream.lock()) stream->push(std::move(out));
}

bool Engine::step() {
  if (Status f = fault(); !f.is_ok()) {  // fail what arrived since, serve nothing
    fail_all(f);
    return false;
  }
  drain_inbox();
  const SchedulerOutput out = scheduler_.schedule();
  if (out.empty()) {
    publish_gauges();
    return false;
  }
  Result<Tensor> logits = runner_.run(out);
  if (!logits.is_ok()) {
    fail_all(logits.status());
    return true;
  }
  scheduler_.on_step_done(out);
  std::vector<Completion*> sampling;
  for (const ScheduledSeq& s : out.scheduled)
    if (s.sample) sampling.push_back(by_seq_.at(s.seq->id));
  if (Status st = sample(sampling, *logits); !st.is_ok()) {
    fail_all(st);
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.steps;
    stats_.preemptions += int64_t(out.preempted.size());
    for (const ScheduledSeq& s : out.scheduled)
      if (!s.sample) {
        ++stats_.chunked_steps;
        break;
      }
  }
  publish_gauges();
  return true;
}

void Engine::fail_all(const Status& error) {
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    fault_ = error;
    stats_.faulted = true;
  }
  drain_inbox();  // requests submitted before the fault was visible fail too
  std::vector<std::shared_ptr<Request>> live;
  for (auto& [id, r] : requests_) live.push_back(r);
  for (auto& r : live)
    for (auto& c : r->completions) {
      if (c->done) continue;
      RequestOutput ev;
      ev.index = c->index;
      ev.error = error;
      finish(*c, ev, FinishReason::kError);
    }
  publish_gauges();
}

void Engine::publish_gauges() {
  const PrefixCacheStats& prefix = kv_.stats();
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.num_running = int64_t(scheduler_.num_running());
  stats_.num_waiting = int64_t(scheduler_.num_waiting());  // stats() adds the inbox
  stats_.kv_blocks_total = kv_.num_blocks();
  stats_.kv_blocks_used = kv_.num_used();
  stats_.prefix_query_tokens = prefix.query_tokens;
  stats_.prefix_hit_tokens = prefix.hit_tokens;
}

Status Engine::fault() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return fault_;
}

bool Engine::has_work() {
  std::lock_guard<std::mutex> lock(inbox_mu_);
  return !inbox_.empty() || !aborts_.empty() || scheduler_.has_work();
}

void Engine::start() {
  stopping_ = false;
  loop_ = std::thread([this] {
    while (!stopping_) {
      if (step()) continue;
      std::unique_lock<std::mutex> lock(inbox_mu_);
      inbox_cv_.wait(lock, [&] { return stopping_ || !inbox_.empty() || !aborts_.empty(); });
    }
  });
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    stopping_ = true;
  }
  inbox_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> inbox_lock(inbox_mu_);  // the same order as drain_inbox()
  std::lock_guard<std::mutex> lock(stats_mu_);
  EngineStats s = stats_;
  s.num_waiting += int64_t(inbox_.size());  // submitted since the last step: waiting too
  return s;
}

}  // namespace minke
