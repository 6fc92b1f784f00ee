# `minke bench kernels --quick` with CUDA_VISIBLE_DEVICES empty: exit code 2 and a message naming
# the reason (no CUDA device, or a build without CUDA), never a crash or a silent success.
execute_process(COMMAND ${CMAKE_COMMAND} -E env CUDA_VISIBLE_DEVICES= ${MINKE} bench kernels --quick
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "expected exit code 2, got ${rc}\n${out}\n${err}")
endif()
if(HAVE_CUDA)
  set(expected "minke bench kernels: .*no CUDA device is visible")
else()
  set(expected "minke bench kernels: this minke was built without CUDA")
endif()
if(NOT err MATCHES "${expected}")
  message(FATAL_ERROR "stderr does not say why (expected /${expected}/):\n${err}")
endif()
message(STATUS "refused as expected: ${err}")
