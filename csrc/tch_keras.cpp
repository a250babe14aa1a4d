// The few LibTorch features tch does not expose: autocast with a chosen dtype and device type,
// TF32 for CUDA matmuls and cuDNN convolutions, the fused Adam kernel, and CUDA graphs (built
// when LibTorch has CUDA and the CUDA runtime headers are found: TK_CUDA).
//
// Every function returns NULL on success or a malloc'd error message the caller frees with
// tk_free_error.
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_fused_adam.h>

#ifdef TK_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <ATen/core/CachingHostAllocator.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace {
char* error_of(const char* what) {
  char* out = static_cast<char*>(std::malloc(std::strlen(what) + 1));
  if (out != nullptr) std::strcpy(out, what);
  return out;
}

template <typename F>
char* guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception& e) {
    return error_of(e.what());
  } catch (...) {
    return error_of("unknown C++ exception");
  }
}

c10::DeviceType device_type(int cuda) { return cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU; }
}  // namespace

extern "C" {
void tk_free_error(char* e) { std::free(e); }

// Enters an autocast region for the device type with dtype bfloat16 (bf16 != 0) or float16;
// `state` receives what tk_autocast_exit needs to restore: [enabled, dtype].
char* tk_autocast_enter(int cuda, int bf16, int* state) {
  return guarded([&] {
    auto dev = device_type(cuda);
    state[0] = at::autocast::is_autocast_enabled(dev) ? 1 : 0;
    state[1] = static_cast<int>(at::autocast::get_autocast_dtype(dev));
    at::autocast::set_autocast_dtype(dev, bf16 ? at::kBFloat16 : at::kHalf);
    at::autocast::set_autocast_enabled(dev, true);
    at::autocast::increment_nesting();
  });
}

char* tk_autocast_exit(int cuda, const int* state) {
  return guarded([&] {
    auto dev = device_type(cuda);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(dev, state[0] != 0);
    at::autocast::set_autocast_dtype(dev, static_cast<at::ScalarType>(state[1]));
  });
}

// Turns autocast off for the device type until tk_autocast_resume, keeping its dtype and
// nesting: a region inside autocast that must run in the tensors' own precision.
// `state[0]` receives whether it was on.
char* tk_autocast_pause(int cuda, int* state) {
  return guarded([&] {
    auto dev = device_type(cuda);
    state[0] = at::autocast::is_autocast_enabled(dev) ? 1 : 0;
    at::autocast::set_autocast_enabled(dev, false);
  });
}

char* tk_autocast_resume(int cuda, const int* state) {
  return guarded([&] { at::autocast::set_autocast_enabled(device_type(cuda), state[0] != 0); });
}

int tk_autocast_enabled(int cuda) { return at::autocast::is_autocast_enabled(device_type(cuda)) ? 1 : 0; }

// TF32 for CUDA float32 matmuls (cuBLAS) and convolutions (cuDNN): 1 on, 0 off (IEEE).
char* tk_set_tf32(int matmul, int conv) {
  return guarded([&] {
    auto& ctx = at::globalContext();
    auto p = [](int on) { return on ? at::Float32Precision::TF32 : at::Float32Precision::IEEE; };
    ctx.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, p(matmul));
    ctx.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, p(conv));
  });
}

// Whether TF32 is on for CUDA matmuls (out[0]) and convolutions (out[1]).
char* tk_get_tf32(int* out) {
  return guarded([&] {
    auto& ctx = at::globalContext();
    out[0] = ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL) == at::Float32Precision::TF32;
    out[1] = ctx.float32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV) == at::Float32Precision::TF32;
  });
}

// One Adam update of `param` (PyTorch's rule, in one kernel) with the step count in `step`
// (a float tensor, incremented by the caller). `vhat` may be NULL (no amsgrad);
// weight_decay > 0 applies L2 decay as PyTorch's Adam does (callers pass 0).
char* tk_fused_adam(at::Tensor* param, at::Tensor* grad, at::Tensor* m, at::Tensor* v, at::Tensor* vhat,
                    at::Tensor* step, double lr, double beta1, double beta2, double eps) {
  return guarded([&] {
    std::vector<at::Tensor> p{*param}, g{*grad}, ms{*m}, vs{*v}, steps{*step};
    std::vector<at::Tensor> vhats;
    if (vhat != nullptr) vhats.push_back(*vhat);
    at::_fused_adam_(p, g, ms, vs, vhats, steps, lr, beta1, beta2, 0.0, eps, vhat != nullptr, false);
  });
}

// CUDA graphs: capture the work queued between begin and end on a side stream, replay it on the
// current stream. Autocast's weight cache is off while capturing (its casts would be captured
// but not rerun).
#ifdef TK_CUDA
// A capture that fails after it started (an op the capture does not allow) ends without
// LibTorch's generator epilogue, leaving the device's default CUDA generator in capture mode:
// every later random op on the device would fail. Give the generator a fresh state object
// with the same seed and offset.
void reset_generator_after_failed_capture(c10::DeviceIndex device) {
  at::Generator gen = at::cuda::detail::getDefaultCUDAGenerator(device);
  at::Generator fresh = at::cuda::detail::createCUDAGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  at::Tensor saved = gen.get_state();
  gen.graphsafe_set_state(fresh);
  gen.set_state(saved);
}

// CUDAGraph with access to what a failed capture must clean up.
struct TkCudaGraph : at::cuda::CUDAGraph {
  at::cuda::MempoolId_t pool_id() const { return mempool_id_; }
  bool capture_ended() const { return capture_ended_; }
};

// A capture that fails after it started ends, in LibTorch 2.11, without handing the caching
// allocator's private pool back: the allocator would go on routing allocations through the
// deleted graph's filter. End the pool's allocation routing and release the pool.
void release_pool_after_failed_capture(TkCudaGraph& graph, c10::DeviceIndex device) {
  auto pool = graph.pool_id();
  if (graph.capture_ended() || (pool.first == 0 && pool.second == 0)) return;
  try {
    c10::cuda::CUDACachingAllocator::endAllocateToPool(device, pool);
  } catch (...) {
  }
  try {
    at::getHostAllocator(at::kCUDA)->end_allocate_to_pool(pool);
  } catch (...) {
  }
  try {
    c10::cuda::CUDACachingAllocator::releasePool(device, pool);
  } catch (...) {
  }
}

// One side stream per device for every capture, so LibTorch's per-stream handles and
// workspaces are made once.
c10::cuda::CUDAStream capture_stream(c10::DeviceIndex device) {
  static std::mutex mutex;
  static std::unordered_map<int, c10::cuda::CUDAStream> streams;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = streams.find(device);
  if (it == streams.end()) it = streams.emplace(device, c10::cuda::getStreamFromPool(false, device)).first;
  return it->second;
}

struct TkGraph {
  TkCudaGraph graph;
  c10::DeviceIndex device = 0;
  // What capture_begin changed: the current device, that device's current stream, autocast's
  // cache switch.
  bool device_set = false;
  std::optional<c10::cuda::CUDAStream> previous_stream;
  c10::DeviceIndex previous_device = 0;
  std::optional<bool> autocast_cache;

  void restore() {
    if (autocast_cache) at::autocast::set_autocast_cache_enabled(*autocast_cache);
    autocast_cache.reset();
    if (previous_stream) c10::cuda::setCurrentCUDAStream(*previous_stream);
    previous_stream.reset();
    if (device_set) c10::cuda::set_device(previous_device);
    device_set = false;
  }

  // After a capture failed: undo what it left behind in LibTorch.
  void clean_up_failure() {
    release_pool_after_failed_capture(graph, device);
    reset_generator_after_failed_capture(device);
  }
};

int tk_cuda_graphs_available() { return 1; }

char* tk_graph_new(void** out) {
  return guarded([&] { *out = new TkGraph(); });
}

void tk_graph_free(void* g) { delete static_cast<TkGraph*>(g); }

char* tk_graph_capture_begin(void* g, int device) {
  auto* t = static_cast<TkGraph*>(g);
  return guarded([&] {
    try {
      auto index = static_cast<c10::DeviceIndex>(device);
      t->device = index;
      t->previous_device = c10::cuda::current_device();
      c10::cuda::set_device(index);
      t->device_set = true;
      c10::cuda::device_synchronize();
      t->previous_stream = c10::cuda::getCurrentCUDAStream(index);
      c10::cuda::setCurrentCUDAStream(capture_stream(index));
      t->autocast_cache = at::autocast::is_autocast_cache_enabled();
      at::autocast::set_autocast_cache_enabled(false);
      t->graph.capture_begin();
    } catch (...) {
      t->restore();
      t->clean_up_failure();
      throw;
    }
  });
}

char* tk_graph_capture_end(void* g) {
  auto* t = static_cast<TkGraph*>(g);
  char* err = guarded([&] { t->graph.capture_end(); });
  char* restored = guarded([&] {
    t->restore();
    if (err != nullptr) t->clean_up_failure();
  });
  if (err == nullptr) return restored;
  std::free(restored);
  return err;
}

char* tk_graph_replay(void* g) {
  return guarded([&] { static_cast<TkGraph*>(g)->graph.replay(); });
}

// The caching allocator's bytes allocated on `device` now (out[0]) and at their peak (out[1]),
// as PyTorch's torch.cuda.memory_allocated / max_memory_allocated; `reset` != 0 then starts a
// new peak.
char* tk_cuda_memory(int device, int reset, int64_t* out) {
  return guarded([&] {
    auto index = static_cast<c10::DeviceIndex>(device);
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    const auto& bytes = stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)];
    out[0] = bytes.current;
    out[1] = bytes.peak;
    if (reset != 0) c10::cuda::CUDACachingAllocator::resetPeakStats(index);
  });
}
#else
int tk_cuda_graphs_available() { return 0; }
static char* no_cuda() { return error_of("this build of tch-keras has no CUDA graph support (LibTorch without CUDA)"); }
char* tk_graph_new(void** out) { *out = nullptr; return no_cuda(); }
void tk_graph_free(void*) {}
char* tk_graph_capture_begin(void*, int) { return no_cuda(); }
char* tk_graph_capture_end(void*) { return no_cuda(); }
char* tk_graph_replay(void*) { return no_cuda(); }
char* tk_cuda_memory(int, int, int64_t*) { return no_cuda(); }
#endif
}
