// OpenAiServer::metrics_text: /metrics in the Prometheus text format, with vLLM's metric
// names under the "minke:" prefix (vllm:num_requests_running -> minke:num_requests_running).
#include "openai/openai_server.h"

namespace minke {

std::string OpenAiServer::metrics_text() const {
  PrometheusText t({{"model_name", config_.served_model_name}});
  EngineStats e;
  if (ready_) e = model_.engine->stats();
  t.gauge("minke:num_requests_running", "Requests in the running batch.", double(e.num_running));
  t.gauge("minke:num_requests_waiting", "Requests waiting to be scheduled.", double(e.num_waiting));
  t.gauge("minke:kv_cache_usage_perc", "Fraction of KV-cache blocks held by live requests (1 = full).",
          e.kv_blocks_total > 0 ? double(e.kv_blocks_used) / double(e.kv_blocks_total) : 0.0);
  t.gauge("minke:kv_cache_blocks_used", "KV-cache blocks held by live requests.", double(e.kv_blocks_used));
  t.gauge("minke:kv_cache_blocks_total", "KV-cache blocks in the pool.", double(e.kv_blocks_total));
  t.counter("minke:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
            double(e.prefix_query_tokens));
  t.counter("minke:prefix_cache_hits_total", "Prompt tokens found in the prefix cache.", double(e.prefix_hit_tokens));
  t.gauge("minke:prefix_cache_hit_rate", "prefix_cache_hits_total / prefix_cache_queries_total.",
          e.prefix_query_tokens > 0 ? double(e.prefix_hit_tokens) / double(e.prefix_query_tokens) : 0.0);
  t.counter("minke:num_preemptions_total", "Sequences preempted (KV blocks freed, recomputed later).",
            double(e.preemptions));
  t.counter("minke:prompt_tokens_total", "Prompt tokens received.", double(e.prompt_tokens));
  t.counter("minke:generation_tokens_total", "Tokens generated.", double(e.generated_tokens));
  t.counter("minke:engine_steps_total", "Engine iterations.", double(e.steps));
  t.gauge("minke:engine_faulted", "1 after the model failed a step (the server then answers 503).",
          e.faulted ? 1.0 : 0.0);
  for (FinishReason reason : {FinishReason::kStop, FinishReason::kLength, FinishReason::kAbort, FinishReason::kError})
    t.counter("minke:request_success_total", "Completions finished, by finish reason.",
              double(metrics_.finished[int(reason)].load()),
              {{"finished_reason", std::string(finish_reason_name(reason))}});
  t.counter("minke:request_rejected_queue_full_total", "Requests answered 503 because the waiting queue was full.",
            double(metrics_.rejected_queue_full.load()));
  t.histogram("minke:time_to_first_token_seconds", "Time from request arrival to the first token.", metrics_.ttft);
  t.histogram("minke:inter_token_latency_seconds", "Time between consecutive tokens of a completion.", metrics_.itl);
  t.histogram("minke:e2e_request_latency_seconds", "Time from request arrival to its last byte queued.", metrics_.e2e);
  if (http_) {
    const HttpServerStats h = http_->stats();
    t.gauge("minke:http_connections_open", "Open client connections.", double(h.connections_open));
    t.gauge("minke:http_streams_active", "SSE responses in progress.", double(h.active_streams));
    t.counter("minke:http_client_disconnects_total", "Responses cut short by the client going away.",
              double(h.client_disconnects));
    t.counter("minke:http_slow_client_closes_total",
              "Connections closed because the client read too slowly (backlog cap or write timeout).",
              double(h.slow_client_closes));
  }
  return t.str();
}

}  // namespace minke
