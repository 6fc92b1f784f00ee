// --hf-overrides (vLLM's): fields of a JSON object replace config.json's before ModelConfig
// validates them; objects merge, null removes, and typos or type changes are errors that say
// hf_overrides and name the field.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/config.h"

namespace minke {
namespace {

std::string fixture_config() {
  std::ifstream in(std::string(MINKE_FIXTURES_DIR) + "/tiny-v3-fp8/config.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<ModelConfig> with(const std::string& overrides) {
  return ModelConfig::from_json(fixture_config(), overrides);
}

void expect_error(const std::string& overrides, std::initializer_list<std::string> parts) {
  const Result<ModelConfig> r = with(overrides);
  ASSERT_FALSE(r.is_ok()) << overrides;
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("hf_overrides"), std::string::npos) << msg;
  for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << overrides << " -> " << msg;
}

TEST(HfOverridesTest, ScalarsReplaceConfigFields) {
  const Result<ModelConfig> base = with("");
  ASSERT_TRUE(base.is_ok()) << base.status().to_string();
  EXPECT_EQ(base->num_hidden_layers, 4);
  auto c = with(R"({"num_hidden_layers": 2, "routed_scaling_factor": 1.5, "norm_topk_prob": false,
                    "topk_method": "greedy", "initializer_range": 0.01, "torch_dtype": "float16"})");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->num_hidden_layers, 2);
  EXPECT_EQ(c->routed_scaling_factor, 1.5);
  EXPECT_FALSE(c->norm_topk_prob);
  EXPECT_EQ(c->topk_method, TopkMethod::kGreedy);
  EXPECT_EQ(c->hidden_size, base->hidden_size);  // untouched fields stay
  auto integral = with(R"({"num_hidden_layers": 3.0})");  // a number stays a number
  ASSERT_TRUE(integral.is_ok()) << integral.status().to_string();
  EXPECT_EQ(integral->num_hidden_layers, 3);
  auto eos = with(R"({"eos_token_id": [1, 2]})");  // an int may become a list of ints
  ASSERT_TRUE(eos.is_ok()) << eos.status().to_string();
  EXPECT_EQ(eos->eos_token_ids, (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(with("{}").is_ok());
}

TEST(HfOverridesTest, ObjectsMergeAndNullRemoves) {
  auto c = with(R"({"rope_scaling": {"factor": 8}, "quantization_config": null})");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_TRUE(c->yarn.has_value());
  EXPECT_EQ(c->yarn->factor, 8.0);
  EXPECT_EQ(c->yarn->original_max_position_embeddings, 4096);  // kept from config.json
  EXPECT_FALSE(c->fp8.has_value());
  auto block = with(R"({"quantization_config": {"weight_block_size": [64, 64]}})");
  ASSERT_TRUE(block.is_ok()) << block.status().to_string();
  EXPECT_EQ(block->fp8->block_n, 64);
}

TEST(HfOverridesTest, FieldsMinkeReadsMayBeAddedOthersMustExist) {
  nlohmann::json j = nlohmann::json::parse(fixture_config());
  j.erase("num_nextn_predict_layers");
  auto added = ModelConfig::from_json(j.dump(), R"({"num_nextn_predict_layers": 0})");
  ASSERT_TRUE(added.is_ok()) << added.status().to_string();
  EXPECT_EQ(added->num_nextn_predict_layers, 0);
  expect_error(R"({"num_hiden_layers": 1})", {"unknown field 'num_hiden_layers'"});
  expect_error(R"({"rope_scaling": {"factr": 2}})", {"unknown field 'rope_scaling.factr'"});
}

TEST(HfOverridesTest, TypeChangesAndBadJsonAreErrors) {
  expect_error(R"({"num_hidden_layers": "4"})", {"num_hidden_layers must be a number", "string"});
  expect_error(R"({"norm_topk_prob": 1})", {"norm_topk_prob must be true or false"});
  expect_error(R"({"rope_scaling": {"type": 3}})", {"rope_scaling.type must be a string"});
  expect_error(R"({"num_hidden_layers": 1)", {"not valid JSON"});
  expect_error(R"([{"num_hidden_layers": 1}])", {"must be a JSON object"});
  expect_error("4", {"must be a JSON object"});
}

TEST(HfOverridesTest, TheOverriddenConfigIsValidatedAndSaysSo) {
  expect_error(R"({"num_hidden_layers": 0})", {"with hf_overrides", "num_hidden_layers = 0"});
  expect_error(R"({"n_group": 3})", {"with hf_overrides", "n_group = 3"});
}

}  // namespace
}  // namespace minke
