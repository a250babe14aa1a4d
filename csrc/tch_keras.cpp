// The few LibTorch switches tch does not expose: autocast with a chosen dtype and device type,
// TF32 for CUDA matmuls and cuDNN convolutions, and the fused Adam kernel.
//
// Every function returns NULL on success or a malloc'd error message the caller frees with
// tk_free_error.
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_fused_adam.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
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
}
