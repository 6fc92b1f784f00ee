// The serving benchmark's datasets, as vLLM's vllm/benchmarks/datasets.py builds them: random
// (synthetic token prompts that re-tokenize to exactly the sampled length), ShareGPT (a local
// JSON file) and custom (a local JSONL file of {"prompt": ...}). Deterministic for a seed;
// errors are Status values, nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/request_result.h"
#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace minke::bench {

// Counts the tokens the server will see for a completions prompt (the CLI passes one that calls
// the server's /tokenize). Called from the thread that called random_dataset, never concurrently.
using TokenCounter = std::function<Result<int64_t>(const std::string& prompt)>;

// vLLM's RandomDataset (--dataset-name random).
struct RandomDatasetOptions {
  int64_t num_prompts = 1000;  // --num-prompts
  int64_t input_len = 1024;    // --random-input-len: tokens the server sees, with what
                               // add_special_tokens adds
  int64_t output_len = 128;    // --random-output-len
  double range_ratio = 0.0;    // --random-range-ratio, in [0, 1)
  int64_t prefix_len = 0;      // --random-prefix-len: random tokens shared by every prompt
  uint64_t seed = 0;           // --seed
  // Whether the server adds the tokenizer's special tokens (DeepSeek: BOS) when it tokenizes the
  // prompt: true for /v1/completions. When true, input_len and prompt_len count them, as the
  // server's usage.prompt_tokens does.
  bool add_special_tokens = true;
  // When set, the count every prompt is checked (and, if it differs, adjusted) against instead
  // of the local tokenizer; the tokenizer still generates the text.
  TokenCounter count_tokens;
  // Threads for generation without count_tokens (the result does not depend on it); <= 0: all.
  int num_threads = 0;
  // Decode -> re-encode -> truncate/pad rounds before a prompt's tail is completed with plain
  // words instead (vLLM's gen_prompt_decode_to_target_len max_retry; vLLM gives up there).
  int max_retries = 10;
};

// How the random prompts came to their lengths (what vLLM logs as a token mismatch, which here
// is always 0 because every prompt is fixed up to its exact length).
struct RandomDatasetStats {
  int64_t input_low = 0, input_high = 0;    // sampled length range, specials and prefix excluded
  int64_t output_low = 0, output_high = 0;  // max_tokens range
  int64_t exact_first_try = 0;  // prompts (and the shared prefix) right at the first decode -> encode
  int64_t retries = 0;          // extra decode -> encode rounds, summed over prompts
  int64_t fallbacks = 0;        // prompts completed with plain words after the retries ran out
  int64_t counter_calls = 0;    // count_tokens calls
};

// num_prompts prompts, each the shared prefix followed by a run of consecutive allowed token ids
// starting at a random offset (vLLM: allowed[(offset + index + arange(n)) % len(allowed)]),
// decoded to text. Length of the sampled part: uniform integer in
//   [floor(L * (1 - r)), ceil(L * (1 + r))], L = max(0, input_len - specials),
// output length in [max(1, floor(O * (1 - r))), max(1, ceil(O * (1 + r)))] (vLLM's bounds).
// Guarantees, for every request:
//  - encode(prompt, add_special_tokens).size() == prompt_len == prefix_len + sampled + specials
//    (specials = what add_special_tokens adds, 0 when false); with count_tokens, the counter's
//    value is what equals prompt_len;
//  - the encoding starts with the prefix's tokens (after the specials), the same for every prompt;
//  - no token of the encoding is a special or added token (DeepSeek's <｜...｜>).
Result<std::vector<BenchRequest>> random_dataset(const Tokenizer& tokenizer,
                                                 const RandomDatasetOptions& options,
                                                 RandomDatasetStats* stats = nullptr);

// vLLM's ShareGPTDataset (--dataset-name sharegpt --dataset-path FILE).
struct ShareGptOptions {
  int64_t num_prompts = 1000;             // --num-prompts
  std::optional<int64_t> output_len;      // --sharegpt-output-len (overrides the reply's length)
  uint64_t seed = 0;                      // --seed
  bool shuffle = true;                    // false: --disable-shuffle
  // vLLM counts both turns with tokenizer(text).input_ids, i.e. with BOS: so does prompt_len and
  // the reply's token count when true.
  bool add_special_tokens = true;
};

// A JSON list of {"id", "conversations": [{"from", "value"}, ...]}. Conversations with fewer than
// two turns are dropped, the rest shuffled with Python's random.seed(seed) + random.shuffle (so
// the same conversations as vLLM's for a seed), then taken in order while they pass vLLM's
// is_valid_sequence (prompt and reply >= 4 tokens, prompt <= 1024, both <= 2048; the reply's
// minimum is not checked when output_len is set) until num_prompts are found. Turn 0 is the
// prompt, turn 1 the reply whose length becomes expected_output_len. Too few valid: an error.
Result<std::vector<BenchRequest>> sharegpt_dataset(const Tokenizer& tokenizer,
                                                   const std::string& path,
                                                   const ShareGptOptions& options);

// vLLM's CustomDataset (--dataset-name custom --dataset-path FILE.jsonl).
struct CustomOptions {
  int64_t num_prompts = 1000;  // --num-prompts; <= 0: every line
  int64_t output_len = 256;    // --custom-output-len
  // vLLM's CustomDataset is built without the seed, so it always shuffles with seed 0.
  uint64_t seed = 0;
  bool shuffle = true;         // false: --disable-shuffle
  bool add_special_tokens = true;  // how prompt_len counts (vLLM: tokenizer(prompt), with BOS)
};

// One {"prompt": "..."} object per line (blank lines skipped), shuffled as sharegpt_dataset does,
// the first num_prompts taken. The prompt is used as is: applying a chat template (vLLM does
// unless --skip-chat-template) is the caller's choice, and prompt_len counts the raw text.
Result<std::vector<BenchRequest>> custom_dataset(const Tokenizer& tokenizer,
                                                 const std::string& path,
                                                 const CustomOptions& options);

// The dataset a benchmark command asked for, with vLLM's flag names (`add_dataset_flags`).
struct DatasetSpec {
  std::string name = "random";  // --dataset-name: random, sharegpt or custom
  std::string path;             // --dataset-path (sharegpt, custom)
  int64_t num_prompts = 1000;
  int64_t random_input_len = 1024, random_output_len = 128, random_prefix_len = 0;
  double random_range_ratio = 0.0;
  std::optional<int64_t> sharegpt_output_len;
  int64_t custom_output_len = 256;
  bool shuffle = true;  // false: --disable-shuffle
  uint64_t seed = 0;
  TokenCounter count_tokens;  // random only: the server's count (see RandomDatasetOptions)
};

// The requests of `spec` (random_dataset, sharegpt_dataset or custom_dataset).
Result<std::vector<BenchRequest>> load_dataset(const Tokenizer& tokenizer, const DatasetSpec& spec);

// Python's random.seed(seed); random.shuffle(x) permutation, applied to indices [0, n): the
// order vLLM's datasets take their entries in.
std::vector<size_t> python_shuffled_indices(size_t n, uint64_t seed);

}  // namespace minke::bench
