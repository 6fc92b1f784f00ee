// CudaBackend's CUDA graph capture: a forward pass recorded on the backend's stream with its
// uploads routed through pinned staging buffers, then replayed with one launch.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"

namespace minke {

CudaBackend::CapturedGraph::~CapturedGraph() {
  if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
  for (const GraphUpload& u : uploads_) cudaFreeHost(u.staging);
}

Status CudaBackend::begin_capture(int64_t max_context) {
  if (capturing_) return internal_error("begin_capture: a capture is already open");
  if (max_context <= 0) return invalid_argument("begin_capture: max_context {}", max_context);
  MINKE_TRY(take_error());  // the eager warm-up must have succeeded
  batch_ = DeviceBatch{};  // the graph uploads its own batch, into graph memory
  // Blocks cached for eager steps cannot serve a graph, and a capture cannot free them (that
  // synchronizes): give them back now so the graph's memory fits the budget.
  pool_->release_cached();
  capture_ = std::make_unique<CapturedGraph>();
  capture_max_context_ = max_context;
  pool_->set_graph_mode(true);
  // Relaxed: the pool may still cudaMalloc a block it has never cached (no stream work).
  if (Status st = cuda_status(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture");
      !st.is_ok()) {
    pool_->set_graph_mode(false);
    capture_.reset();
    return st;
  }
  capturing_ = true;
  return Status::ok();
}

Result<std::unique_ptr<CudaBackend::CapturedGraph>> CudaBackend::end_capture() {
  if (!capturing_) return internal_error("end_capture without begin_capture");
  capturing_ = false;
  cudaGraph_t graph = nullptr;
  const Status ended = cuda_status(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
  pool_->set_graph_mode(false);
  batch_ = DeviceBatch{};  // graph memory: never reused by eager steps
  std::unique_ptr<CapturedGraph> captured = std::move(capture_);
  Status recorded = take_error();  // errors met while recording (no sync happened then)
  if (ended.is_ok() && recorded.is_ok())
    recorded = cuda_status(cudaGraphInstantiate(&captured->exec_, graph, 0), "cudaGraphInstantiate");
  if (graph != nullptr) cudaGraphDestroy(graph);
  MINKE_TRY(ended);
  MINKE_TRY(recorded);
  return captured;
}

Status CudaBackend::replay(const CapturedGraph& graph) {
  MINKE_CUDA_TRY(cudaGraphLaunch(graph.exec_, stream_));
  return Status::ok();
}

}  // namespace minke
