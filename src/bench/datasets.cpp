// The benchmark's datasets (datasets.h): random prompts fitted to exact token counts (vLLM's
// RandomDataset and gen_prompt_decode_to_target_len, plus a fallback so that the count is always
// met), ShareGPT and custom files, and Python's shuffle so that files yield vLLM's entries.
#include "bench/datasets.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/thread_pool.h"

namespace minke::bench {
namespace {

using Ids = std::vector<int32_t>;
using Json = nlohmann::json;

// ---- Random numbers -------------------------------------------------------------------------

// Uniform integers from a 64-bit Mersenne Twister with our own rejection sampling, so that a seed
// gives the same dataset with every standard library (uniform_int_distribution is not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t below(uint64_t n) {  // uniform in [0, n), n > 0
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the low values that would bias r % n
    for (;;) {
      const uint64_t r = gen_();
      if (r >= threshold) return r % n;
    }
  }
  int64_t between(int64_t lo, int64_t hi) { return lo + int64_t(below(uint64_t(hi - lo) + 1)); }

 private:
  std::mt19937_64 gen_;
};

// An independent generator per prompt (SplitMix64 of seed and index): the dataset does not depend
// on how many threads build it.
Rng stream_rng(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return Rng(z ^ (z >> 31));
}

// CPython's Random: MT19937 seeded by init_by_array with the seed's 32-bit words (random_seed in
// Modules/_randommodule.c), getrandbits and _randbelow_with_getrandbits as in Lib/random.py.
class PythonRandom {
 public:
  explicit PythonRandom(uint64_t seed) {
    const uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
    init_by_array(key, (seed >> 32) != 0 ? 2 : 1);
  }
  uint64_t randbelow(uint64_t n) {  // n > 0
    const int k = std::bit_width(n);
    for (;;) {
      const uint64_t r = getrandbits(k);
      if (r < n) return r;
    }
  }

 private:
  static constexpr int kN = 624, kM = 397;
  uint64_t getrandbits(int k) {  // 1 <= k <= 64; words little-endian, the last one shifted
    if (k <= 32) return genrand() >> (32 - k);
    const uint64_t low = genrand();
    return low | (uint64_t(genrand() >> (64 - k)) << 32);
  }
  void init_genrand(uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < kN; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + uint32_t(i);
    mti_ = kN;
  }
  void init_by_array(const uint32_t* key, int len) {
    init_genrand(19650218u);
    int i = 1, j = 0;
    for (int k = std::max(kN, len); k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + uint32_t(j);
      if (++i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
      if (++j >= len) j = 0;
    }
    for (int k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - uint32_t(i);
      if (++i >= kN) { mt_[0] = mt_[kN - 1]; i = 1; }
    }
    mt_[0] = 0x80000000u;
  }
  uint32_t genrand() {
    if (mti_ >= kN) {
      auto mix = [&](int a, int b, int c) {
        const uint32_t y = (mt_[a] & 0x80000000u) | (mt_[b] & 0x7fffffffu);
        mt_[a] = mt_[c] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      };
      int kk = 0;
      for (; kk < kN - kM; ++kk) mix(kk, kk + 1, kk + kM);
      for (; kk < kN - 1; ++kk) mix(kk, kk + 1, kk + (kM - kN));
      mix(kN - 1, 0, kM - 1);
      mti_ = 0;
    }
    uint32_t y = mt_[mti_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
  }
  uint32_t mt_[kN];
  int mti_ = kN + 1;
};

// ---- Random prompts ---------------------------------------------------------------------------

// The ids random prompts are made of.
struct Vocabulary {
  Ids allowed;                // ascending: tokens that are neither special nor added
  std::vector<uint8_t> ok;    // id -> 1 when allowed
  Ids words;                  // " " + ASCII letters, each encoding to itself alone
  bool is_ok(int32_t id) const { return id >= 0 && size_t(id) < ok.size() && ok[size_t(id)]; }
};

// Added tokens (DeepSeek's <｜User｜>, ...) keep their content verbatim where model tokens are
// spelled in the byte-level alphabet, so verbatim non-ASCII content means an added token. (The
// public API has no is_added: an ASCII-only added token would pass; DeepSeek has none.)
bool looks_added(const Tokenizer& tok, int32_t id) {
  const std::optional<std::string> spelled = tok.id_to_token(id);
  const std::string_view bytes = tok.token_bytes(id);
  return spelled && *spelled == bytes &&
         std::any_of(bytes.begin(), bytes.end(), [](char c) { return uint8_t(c) >= 0x80; });
}

Vocabulary build_vocabulary(const Tokenizer& tok) {
  constexpr size_t kMaxWords = 512;
  Vocabulary v;
  v.ok.assign(size_t(std::max(tok.vocab_size(), 0)), 0);
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (!tok.is_token(id) || tok.is_special(id) || looks_added(tok, id)) continue;
    v.allowed.push_back(id);
    v.ok[size_t(id)] = 1;
    const std::string_view b = tok.token_bytes(id);
    // " word" is a pre-token of its own after any text, and BPE gives it back as this one id.
    if (v.words.size() < kMaxWords && b.size() >= 3 && b[0] == ' ' &&
        std::all_of(b.begin() + 1, b.end(), [](char c) { return std::isalpha(uint8_t(c)); }) &&
        tok.encode(b, false) == Ids{id})
      v.words.push_back(id);
  }
  return v;
}

struct FitCounts {
  int64_t exact_first_try = 0, retries = 0, fallbacks = 0;
  void add(const FitCounts& o) {
    exact_first_try += o.exact_first_try, retries += o.retries, fallbacks += o.fallbacks;
  }
};

// Text `t` such that encode(head + t) == head_ids ++ tail, with tail.size() == n and no special or
// added token in tail; encode(head) must be head_ids. vLLM's gen_prompt_decode_to_target_len:
// decode, re-encode, truncate or pad with random tokens, max_retries times (vLLM: 10); then
// (rarely) plain words, which always re-tokenize one to one. A first token that merges into the
// head's last is replaced by another.
Result<std::string> fit_text(const Tokenizer& tok, const Vocabulary& v, const std::string& head,
                             const Ids& head_ids, Ids ids, int64_t n, int max_retries, Rng& rng,
                             FitCounts& counts) {
  auto random_id = [&] { return v.allowed[rng.below(v.allowed.size())]; };
  for (int round = 0; round <= max_retries; ++round) {
    std::string text = tok.decode(ids, false);
    Ids enc = tok.encode(head + text, false);
    const bool head_kept = enc.size() >= head_ids.size() &&
                           std::equal(head_ids.begin(), head_ids.end(), enc.begin());
    if (!head_kept) {
      if (ids.empty()) break;  // encode(head) != head_ids: only words can help
      ids[0] = random_id();
      continue;
    }
    Ids tail(enc.begin() + int64_t(head_ids.size()), enc.end());
    bool clean = true;
    for (int32_t& id : tail) {
      if (!v.is_ok(id)) clean = false, id = random_id();
    }
    if (clean && int64_t(tail.size()) == n) {
      counts.retries += round;
      counts.exact_first_try += round == 0;
      return text;
    }
    if (int64_t(tail.size()) > n) tail.resize(size_t(n));
    while (int64_t(tail.size()) < n) tail.push_back(random_id());
    ids = std::move(tail);
  }
  counts.retries += max_retries;
  counts.fallbacks += 1;
  if (v.words.empty())
    return internal_error("the tokenizer has no plain-word tokens to complete a random prompt with");
  std::string text;
  Ids want = head_ids;
  for (int64_t i = 0; i < n; ++i) {
    want.push_back(v.words[rng.below(v.words.size())]);
    text += tok.token_bytes(want.back());
  }
  if (tok.encode(head + text, false) != want)
    return internal_error("could not make a random prompt re-tokenize to {} + {} tokens", head_ids.size(), n);
  return text;
}

}  // namespace

std::vector<size_t> python_shuffled_indices(size_t n, uint64_t seed) {
  std::vector<size_t> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = i;
  PythonRandom rng(seed);
  for (size_t i = n; i-- > 1;) std::swap(x[i], x[rng.randbelow(i + 1)]);  // Lib/random.py shuffle
  return x;
}

Result<std::vector<BenchRequest>> random_dataset(const Tokenizer& tok, const RandomDatasetOptions& o,
                                                 RandomDatasetStats* stats) {
  const double r = o.range_ratio;
  if (!(r >= 0.0 && r < 1.0)) return invalid_argument("--random-range-ratio must be in [0, 1), got {}", r);
  if (o.num_prompts < 0) return invalid_argument("--num-prompts must be >= 0, got {}", o.num_prompts);
  if (o.input_len < 0) return invalid_argument("--random-input-len must be >= 0, got {}", o.input_len);
  if (o.output_len < 0) return invalid_argument("--random-output-len must be >= 0, got {}", o.output_len);
  if (o.prefix_len < 0) return invalid_argument("--random-prefix-len must be >= 0, got {}", o.prefix_len);

  // vLLM's RandomDataset.get_sampling_params: floor for the low bounds, ceil for the high ones,
  // the input's around input_len less the special tokens the server adds.
  const int64_t specials = o.add_special_tokens ? int64_t(tok.encode("", true).size()) : 0;
  const int64_t real_input_len = std::max<int64_t>(0, o.input_len - specials);
  const auto input_low = int64_t(std::floor(double(real_input_len) * (1 - r)));
  const auto input_high = int64_t(std::ceil(double(real_input_len) * (1 + r)));
  const auto output_low = std::max<int64_t>(1, int64_t(std::floor(double(o.output_len) * (1 - r))));
  const auto output_high = std::max<int64_t>(1, int64_t(std::ceil(double(o.output_len) * (1 + r))));
  if (o.prefix_len + input_low < 1)
    return invalid_argument(
        "--random-input-len is too small: with {} special tokens and --random-range-ratio {}, a prompt "
        "may have {} tokens (prefix + sampled); make prefix_len + floor(max(0, input_len - specials) * "
        "(1 - range_ratio)) at least 1",
        specials, r, o.prefix_len + input_low);

  const int retries = std::max(o.max_retries, 0);
  const Vocabulary vocab = build_vocabulary(tok);
  if (vocab.allowed.empty())
    return invalid_argument("the tokenizer has no ordinary tokens to build prompts from");
  const auto n = size_t(o.num_prompts);
  const uint64_t num_allowed = vocab.allowed.size();

  // Draws in vLLM's order: input lengths, output lengths, offsets, then the prefix.
  Rng rng(o.seed);
  std::vector<int64_t> input_lens(n), output_lens(n);
  std::vector<uint64_t> offsets(n);
  for (int64_t& len : input_lens) len = rng.between(input_low, input_high);
  for (int64_t& len : output_lens) len = rng.between(output_low, output_high);
  for (uint64_t& offset : offsets) offset = rng.below(num_allowed);
  Ids prefix_seed(size_t(o.prefix_len));
  for (int32_t& id : prefix_seed) id = vocab.allowed[rng.below(num_allowed)];

  FitCounts counts;
  Rng prefix_rng = stream_rng(o.seed, 0);
  MINKE_ASSIGN_OR_RETURN(const std::string prefix,
                         fit_text(tok, vocab, "", {}, prefix_seed, o.prefix_len, retries, prefix_rng, counts));
  const Ids prefix_ids = tok.encode(prefix, false);

  // Prompt i: vLLM's allowed[(offset + index + arange(len)) % len(allowed)] after the prefix.
  auto make = [&](size_t i, int64_t len, FitCounts& c) -> Result<std::string> {
    Ids inner(size_t(std::max<int64_t>(len, 0)));
    for (size_t k = 0; k < inner.size(); ++k) inner[k] = vocab.allowed[(offsets[i] + i + k) % num_allowed];
    Rng prompt_rng = stream_rng(o.seed, i + 1);
    return fit_text(tok, vocab, prefix, prefix_ids, std::move(inner), len, retries, prompt_rng, c);
  };

  std::vector<BenchRequest> requests(n);
  int64_t counter_calls = 0;
  if (!o.count_tokens) {
    std::vector<Status> errors(n);
    std::vector<FitCounts> per_prompt(n);
    ThreadPool pool(o.num_threads > 0 ? o.num_threads : ThreadPool::default_threads());
    pool.parallel_for(int64_t(n), 4, [&](int64_t begin, int64_t end) {
      for (auto i = size_t(begin); i < size_t(end); ++i) {
        Result<std::string> text = make(i, input_lens[i], per_prompt[i]);
        if (!text.is_ok()) {
          errors[i] = std::move(text).status();
          continue;
        }
        requests[i] = {prefix + *text, o.prefix_len + input_lens[i] + specials, output_lens[i]};
      }
    });
    for (size_t i = 0; i < n; ++i) {
      if (!errors[i].is_ok()) return errors[i].with_context(fmt::format("random prompt {}", i));
      counts.add(per_prompt[i]);
    }
  } else {
    // The server has the last word: fit locally, ask, and shift the local target by the difference.
    constexpr int kCounterRounds = 4;
    for (size_t i = 0; i < n; ++i) {
      const int64_t want = o.prefix_len + input_lens[i] + specials;
      int64_t local = input_lens[i];
      int64_t got = -1;
      for (int round = 0; round < kCounterRounds && got != want; ++round) {
        if (local < 0) break;
        MINKE_ASSIGN_OR_RETURN(const std::string text, make(i, local, counts));
        requests[i] = {prefix + text, want, output_lens[i]};
        ++counter_calls;
        Result<int64_t> count = o.count_tokens(requests[i].prompt);
        if (!count.is_ok())
          return count.status().with_context(fmt::format("counting the tokens of random prompt {}", i));
        got = *count;
        if (got < 0) return internal_error("the token counter returned {} for random prompt {}", got, i);
        local += want - got;
      }
      if (got != want)
        return invalid_argument(
            "random prompt {}: the server counts {} tokens where {} were asked for, after {} adjustments (does the "
            "local tokenizer match the server's?)",
            i, got, want, kCounterRounds);
    }
  }
  if (stats) {
    *stats = {input_low, input_high, output_low, output_high, counts.exact_first_try, counts.retries,
              counts.fallbacks, counter_calls};
  }
  return requests;
}

// ---- Files ------------------------------------------------------------------------------------

namespace {

Result<std::string> read_text_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found("{} file {} does not exist", what, path);
  if (std::filesystem::is_directory(path, ec))
    return invalid_argument("{} path {} is a directory, not a file", what, path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open {} file {}", what, path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return io_error("cannot read {} file {}", what, path);
  return text.str();
}

Result<Json> parse_json(const std::string& text, const std::string& where) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // the library throws; we return
    return corrupt("{}: not valid JSON: {}", where, e.what());
  }
}

// vLLM's benchmarks/dataset_utils.py is_valid_sequence, with its defaults.
bool is_valid_sequence(int64_t prompt_len, int64_t output_len, bool skip_min_output_len_check) {
  constexpr int64_t kMinLen = 4, kMaxPromptLen = 1024, kMaxTotalLen = 2048;
  return !(prompt_len < kMinLen || (!skip_min_output_len_check && output_len < kMinLen) ||
           prompt_len > kMaxPromptLen || prompt_len + output_len > kMaxTotalLen);
}

std::vector<size_t> entry_order(size_t n, bool shuffle, uint64_t seed) {
  if (shuffle) return python_shuffled_indices(n, seed);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

// What sampling reads of one ShareGPT entry: the real file is ~670 MB, and a DOM of it would take
// about four times that, so the file is streamed through this SAX handler instead.
struct ShareGptEntry {
  std::string id;                    // for messages
  bool has_conversations = false;
  size_t turns = 0;
  std::optional<std::string> value[2];  // turns 0 and 1's string "value"
};

std::string with_article(std::string_view type) {
  const bool vowel = std::string_view("aeiou").find(type.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", type);
}

class ShareGptReader final : public nlohmann::json_sax<Json> {
 public:
  explicit ShareGptReader(std::string path) : path_(std::move(path)) {}
  std::vector<ShareGptEntry> entries;
  Status error;

  bool null() override { return scalar("null"); }
  bool boolean(bool) override { return scalar("boolean"); }
  bool number_integer(number_integer_t) override { return scalar("number"); }
  bool number_unsigned(number_unsigned_t) override { return scalar("number"); }
  bool number_float(number_float_t, const string_t&) override { return scalar("number"); }
  bool binary(binary_t&) override { return scalar("binary"); }
  bool string(string_t& s) override {
    if (!at(Ctx::kEntry) && !at(Ctx::kTurn)) return scalar("string");
    if (at(Ctx::kEntry) && key_ == "id") entries.back().id = std::move(s);
    if (at(Ctx::kEntry) && key_ == "conversations") return fail("\"conversations\" is a string, not a list");
    if (at(Ctx::kTurn) && key_ == "value" && turn_ < 2) entries.back().value[turn_] = std::move(s);
    return true;
  }
  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = corrupt("{}: not valid JSON: {}", path_, e.what());
    return false;
  }

 private:
  enum class Ctx { kTop, kEntry, kConversations, kTurn, kSkip };
  bool at(Ctx c) const { return !stack_.empty() && stack_.back() == c; }
  bool fail(std::string_view why) {
    error = corrupt("{}: entry {}: {}", path_, entries.size() - 1, why);
    return false;
  }
  // A value that is not an object or array, wherever it is.
  bool scalar(std::string_view type) {
    if (stack_.empty()) return fail_top(type);
    if (at(Ctx::kTop)) {
      error = corrupt("{}: entry {} is {}, not an object", path_, entries.size(), with_article(type));
      return false;
    }
    if (at(Ctx::kEntry) && key_ == "conversations")
      return fail(fmt::format("\"conversations\" is {}, not a list", with_article(type)));
    if (at(Ctx::kConversations)) ++entries.back().turns;
    return true;
  }
  bool fail_top(std::string_view type) {
    error = corrupt("{}: expected a JSON list of ShareGPT conversations, got {}", path_, with_article(type));
    return false;
  }
  // An object or array opens.
  bool open(bool object) {
    const std::string_view type = object ? "object" : "array";
    Ctx next = Ctx::kSkip;
    if (stack_.empty()) {
      if (object) return fail_top(type);
      next = Ctx::kTop;
    } else if (at(Ctx::kTop)) {
      if (!object) return scalar(type);
      entries.emplace_back();
      next = Ctx::kEntry;
    } else if (at(Ctx::kEntry) && key_ == "conversations") {
      if (object) return fail("\"conversations\" is an object, not a list");
      entries.back().has_conversations = true;
      next = Ctx::kConversations;
    } else if (at(Ctx::kConversations)) {
      turn_ = entries.back().turns++;
      if (object) next = Ctx::kTurn;
    }
    stack_.push_back(next);
    key_.clear();
    return true;
  }
  bool close() {
    stack_.pop_back();
    key_.clear();  // keys only matter for values directly inside kEntry and kTurn
    return true;
  }

  std::string path_;
  std::vector<Ctx> stack_;
  std::string key_;
  size_t turn_ = 0;
};

Result<std::vector<ShareGptEntry>> read_sharegpt(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found("ShareGPT dataset file {} does not exist", path);
  if (std::filesystem::is_directory(path, ec))
    return invalid_argument("ShareGPT dataset path {} is a directory, not a file", path);
  std::ifstream in(path, std::ios::binary);  // streamed: the fastest of nlohmann's inputs here
  if (!in) return io_error("cannot open ShareGPT dataset file {}", path);
  ShareGptReader reader(path);
  bool ok = false;
  try {
    ok = Json::sax_parse(in, &reader);
  } catch (const Json::exception& e) {  // the library throws; we return
    reader.error = corrupt("{}: not valid JSON: {}", path, e.what());
  }
  if (in.bad()) return io_error("cannot read ShareGPT dataset file {}", path);
  if (!ok) return reader.error.is_ok() ? corrupt("{}: not valid JSON", path) : reader.error;
  return std::move(reader.entries);
}

}  // namespace

Result<std::vector<BenchRequest>> sharegpt_dataset(const Tokenizer& tok, const std::string& path,
                                                   const ShareGptOptions& o) {
  if (o.num_prompts < 0) return invalid_argument("--num-prompts must be >= 0, got {}", o.num_prompts);
  if (o.output_len && *o.output_len < 1)
    return invalid_argument("--sharegpt-output-len must be >= 1, got {}", *o.output_len);
  MINKE_ASSIGN_OR_RETURN(std::vector<ShareGptEntry> entries, read_sharegpt(path));

  // vLLM's ShareGPTDataset.load_data: keep entries with two turns or more, then shuffle.
  std::vector<size_t> kept;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].has_conversations && entries[i].turns >= 2) kept.push_back(i);
  }

  std::vector<BenchRequest> requests;
  for (size_t k : entry_order(kept.size(), o.shuffle, o.seed)) {
    if (int64_t(requests.size()) >= o.num_prompts) break;
    ShareGptEntry& entry = entries[kept[k]];
    for (int turn : {0, 1}) {
      if (!entry.value[turn])
        return corrupt("{}: entry {}{}: conversations[{}] has no string \"value\"", path, kept[k],
                       entry.id.empty() ? "" : fmt::format(" (id {})", entry.id), turn);
    }
    const auto prompt_len = int64_t(tok.encode(*entry.value[0], o.add_special_tokens).size());
    const int64_t output_len =
        o.output_len ? *o.output_len : int64_t(tok.encode(*entry.value[1], o.add_special_tokens).size());
    if (!is_valid_sequence(prompt_len, output_len, o.output_len.has_value())) continue;
    requests.push_back({std::move(*entry.value[0]), prompt_len, output_len});
  }
  if (int64_t(requests.size()) < o.num_prompts)
    return invalid_argument(
        "{}: --num-prompts {} asks for more than the {} valid conversations (of {} entries, {} with two turns or "
        "more; valid: prompt and reply >= 4 tokens, prompt <= 1024, both <= 2048)",
        path, o.num_prompts, requests.size(), entries.size(), kept.size());
  return requests;
}

Result<std::vector<BenchRequest>> custom_dataset(const Tokenizer& tok, const std::string& path,
                                                 const CustomOptions& o) {
  if (o.output_len < 1) return invalid_argument("--custom-output-len must be >= 1, got {}", o.output_len);
  if (!path.ends_with(".jsonl"))
    return unsupported("{}: the custom dataset reads JSONL files (*.jsonl), one {{\"prompt\": ...}} per line", path);
  MINKE_ASSIGN_OR_RETURN(const std::string text, read_text_file(path, "custom dataset"));

  std::vector<std::string> prompts;
  std::istringstream lines(text);
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path, number);
    MINKE_ASSIGN_OR_RETURN(const Json row, parse_json(line, where));
    const auto it = row.is_object() ? row.find("prompt") : row.end();
    if (it == row.end() || !it->is_string())
      return corrupt("{}: expected an object with a string \"prompt\"", where);
    prompts.push_back(it->get<std::string>());
  }
  if (prompts.empty()) return invalid_argument("{}: no prompts in the custom dataset", path);
  const size_t count = o.num_prompts <= 0 ? prompts.size() : size_t(o.num_prompts);
  if (count > prompts.size())
    return invalid_argument("{}: --num-prompts {} asks for more than the file's {} prompts (0 takes them all)", path,
                            o.num_prompts, prompts.size());

  std::vector<BenchRequest> requests;
  const std::vector<size_t> order = entry_order(prompts.size(), o.shuffle, o.seed);
  for (size_t k = 0; k < count; ++k) {
    std::string& prompt = prompts[order[k]];
    const auto prompt_len = int64_t(tok.encode(prompt, o.add_special_tokens).size());
    requests.push_back({std::move(prompt), prompt_len, o.output_len});
  }
  return requests;
}

Result<std::vector<BenchRequest>> load_dataset(const Tokenizer& tokenizer, const DatasetSpec& spec) {
  if (spec.name == "random") {
    RandomDatasetOptions r;
    r.num_prompts = spec.num_prompts;
    r.input_len = spec.random_input_len;
    r.output_len = spec.random_output_len;
    r.range_ratio = spec.random_range_ratio;
    r.prefix_len = spec.random_prefix_len;
    r.seed = spec.seed;
    r.count_tokens = spec.count_tokens;
    return random_dataset(tokenizer, r);
  }
  if (spec.name != "sharegpt" && spec.name != "custom")
    return invalid_argument("--dataset-name must be random, sharegpt or custom, got '{}'", spec.name);
  if (spec.path.empty()) return invalid_argument("--dataset-name {} needs --dataset-path", spec.name);
  if (spec.name == "sharegpt") {
    ShareGptOptions o;
    o.num_prompts = spec.num_prompts;
    o.output_len = spec.sharegpt_output_len;
    o.seed = spec.seed;
    o.shuffle = spec.shuffle;
    return sharegpt_dataset(tokenizer, spec.path, o);
  }
  CustomOptions o;
  o.num_prompts = spec.num_prompts;
  o.output_len = spec.custom_output_len;
  o.shuffle = spec.shuffle;
  return custom_dataset(tokenizer, spec.path, o);
}

}  // namespace minke::bench
