# `minke generate --load-format dummy` on a directory holding only a fixture's config.json and
# the DeepSeek-V3 tokenizer files (no safetensors): random weights, --hf-overrides shrinking
# the model to one layer. Token-id prompts stay inside the fixture's 4096-token vocabulary; a
# text prompt needs the tokenizer's vocabulary, which a second override provides.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(COPY ${FIXTURE}/config.json ${TOKENIZER}/tokenizer.json ${TOKENIZER}/tokenizer_config.json
     DESTINATION ${WORK})
file(WRITE ${WORK}/prompts.jsonl "{\"prompt_token_ids\": [0, 5, 7, 3001]}\n")

function(run_generate)
  execute_process(COMMAND ${MINKE} generate ${WORK} --load-format dummy --max-tokens 4 --threads 2 ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "minke generate ${ARGN} exited ${rc}\n${out}\n${err}")
  endif()
  if(NOT err MATCHES "1 requests, [0-9]+ prompt \\+ [1-4] generated tokens")
    message(FATAL_ERROR "no generation summary from minke generate ${ARGN}:\n${out}\n${err}")
  endif()
  message(STATUS "${ARGN}: ${out}")
endfunction()

run_generate(--hf-overrides "{\"num_hidden_layers\":1}" --input-file ${WORK}/prompts.jsonl --output-ids)
run_generate(--hf-overrides "{\"num_hidden_layers\":1,\"vocab_size\":129280}" --prompt "Hello, world")
file(GLOB leftovers ${WORK}/*.safetensors)
if(leftovers)
  message(FATAL_ERROR "a dummy load wrote files: ${leftovers}")
endif()
