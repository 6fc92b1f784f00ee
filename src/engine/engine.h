// Engine: requests in, token/text events out. One thread calls step() (or run()):
// schedule -> run the model -> sample -> update -> emit. submit() and abort() are
// thread-safe; each request's events arrive on its own RequestStream. Dropping the
// stream (or cancel()) aborts the request; its blocks return within one step.
// The engine must outlive its streams.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "engine/batch_sampler.h"
#include "engine/logits_processor.h"
#include "engine/logprobs.h"
#include "engine/model_runner.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/stop_matcher.h"
#include "tokenizer/tokenizer.h"

namespace minke {

enum class FinishReason { kStop, kLength, kAbort, kError };
std::string_view finish_reason_name(FinishReason reason);  // "stop", "length", "abort", "error"

// One event of one completion: the tokens of this step and the text they completed.
struct RequestOutput {
  int index = 0;                       // which of the request's n completions
  std::vector<int32_t> token_ids;      // new tokens
  std::string text;                    // new text (stop strings held back or cut)
  std::vector<TokenLogprobs> logprobs;  // one per new token, when requested
  std::optional<FinishReason> finish;  // set on the completion's last event
  std::string stop_reason;             // the stop string that ended it, if any
  std::optional<int32_t> stop_token;   // the stop_token_ids entry that ended it, if any
  Status error;                        // with FinishReason::kError
  std::chrono::steady_clock::time_point emitted;  // when the engine produced it (for TTFT)
};

struct EngineRequest {
  std::vector<int32_t> prompt;
  SamplingParams params;
  std::string cache_salt;
  int priority = 0;
};

class Engine;

class RequestStream {
 public:
  ~RequestStream();  // aborts the request if it is still running
  uint64_t id() const { return id_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  // The next event; blocks until one arrives. nullopt once every completion finished
  // and every event was read.
  std::optional<RequestOutput> next();
  // The next event if one is ready, without blocking.
  std::optional<RequestOutput> try_next();
  // True once every completion finished and every event was read.
  bool drained();
  // Called (from the engine's thread, without locks held) after each event is
  // queued, for servers that forward events without a thread per request. The
  // callback must not block; it typically posts work that calls try_next().
  void set_listener(std::function<void()> listener);
  void cancel();

 private:
  friend class Engine;
  RequestStream(Engine* engine, uint64_t id, int n, int64_t prompt_tokens)
      : engine_(engine), id_(id), open_(n), prompt_tokens_(prompt_tokens) {}
  void push(RequestOutput out);
  Engine* engine_;
  uint64_t id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RequestOutput> events_;
  int open_;  // completions not finished yet
  int64_t prompt_tokens_;
  std::function<void()> listener_;
};

struct EngineConfig {
  SchedulerConfig scheduler;
  int64_t block_size = 64;
  int64_t num_blocks = 0;
  bool enable_prefix_caching = true;
  uint64_t seed = 0;  // for requests without a seed
};

struct EngineStats {
  // Counters since start.
  int64_t steps = 0, preemptions = 0, chunked_steps = 0, prompt_tokens = 0, generated_tokens = 0;
  int64_t prefix_query_tokens = 0, prefix_hit_tokens = 0;  // prompt tokens looked up / found cached
  // Gauges as of the last step (num_waiting also counts requests not yet picked up).
  int64_t num_running = 0, num_waiting = 0;
  int64_t kv_blocks_total = 0, kv_blocks_used = 0;  // used: held by live sequences
  bool faulted = false;  // the model failed: every request since fails (see Engine::fault())
};

class Engine {
 public:
  // `tokenizer` may be null (token ids only: no text, no stop strings); eos_ids stop
  // generation unless ignore_eos. `sampler` turns each step's logits into tokens: null
  // means a HostBatchSampler the engine owns; otherwise it must outlive the engine, and
  // the runner must return logits it accepts (see BatchSampler::logits_device()).
  Engine(const EngineConfig& config, StepRunner& runner, KvCacheManager& kv,
         const Tokenizer* tokenizer, std::vector<int32_t> eos_ids, BatchSampler* sampler = nullptr);
  ~Engine();

  // Validates and queues a request (thread-safe). Errors are immediate.
  Result<std::shared_ptr<RequestStream>> submit(EngineRequest request);
  void abort(uint64_t request_id);  // thread-safe; unknown ids are ignored

  // One iteration; false when there was nothing to do.
  bool step();
  // Whether step() would do anything: call from the thread that calls step().
  bool has_work();
  // A background loop thread calling step(); stop() joins it.
  void start();
  void stop();
  EngineStats stats() const;
  // Not ok once the model failed a step. The engine then fails every in-flight request
  // with this error and refuses new ones (kUnavailable): a backend error may have left
  // the device or the cache in an unknown state, so it never serves on after one.
  Status fault() const;

 private:
  struct Completion;
  struct Request;
  void drain_inbox();
  void admit(Request& r, size_t index);
  Status sample(std::span<Completion* const> sampling, const Tensor& logits);
  void emit(Completion& c, SampleResult& result);
  void finish(Completion& c, RequestOutput& out, FinishReason reason);
  void fail_all(const Status& error);
  void publish_gauges();

  EngineConfig config_;
  StepRunner& runner_;
  KvCacheManager& kv_;
  Scheduler scheduler_;
  const Tokenizer* tokenizer_;
  std::vector<int32_t> eos_ids_;
  std::unique_ptr<BatchSampler> own_sampler_;  // when none was given
  BatchSampler* sampler_;
  std::vector<SampleRow> sample_rows_;         // reused per step
  std::vector<SampleResult> sample_results_;

  mutable std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<std::shared_ptr<Request>> inbox_;
  std::vector<uint64_t> aborts_;
  uint64_t next_request_id_ = 1;

  std::unordered_map<uint64_t, std::shared_ptr<Request>> requests_;  // loop thread only
  std::unordered_map<uint64_t, Completion*> by_seq_;
  uint64_t next_seq_id_ = 1;
  EngineStats stats_;
  Status fault_;  // under stats_mu_
  mutable std::mutex stats_mu_;
  std::thread loop_;
  std::atomic<bool> stopping_{false};
};

}  // namespace minke
