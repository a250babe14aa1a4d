// Process groups on LibTorch's distributed engine, c10d: a TCPStore for the rendezvous (rank 0
// hosts it, or every rank joins one an outside launcher hosts), then a Gloo (USE_C10D_GLOO) or
// NCCL (USE_C10D_NCCL) backend for all-reduce, broadcast and barrier.
//
// Only the public Backend interface is used; the Gloo headers (not shipped with LibTorch) are
// needed only to declare ProcessGroupGloo, which holds Gloo types through pointers alone.
//
// Every function returns NULL on success or a malloc'd one-line error message (LibTorch's C++
// backtrace removed) the caller frees with tk_free_error; `kind` receives what went wrong
// (TK_DIST_* below) so the caller can tell a timeout from a lost peer.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <c10/util/Logging.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {
// What went wrong, as the Rust side's DistErrorKind reads it.
enum Kind : int {
  TK_DIST_OK = 0,
  TK_DIST_TIMEOUT = 1,
  TK_DIST_PEER = 2,
  TK_DIST_INVALID = 3,
  TK_DIST_ADDRESS_IN_USE = 4,
  TK_DIST_UNSUPPORTED = 5,
  TK_DIST_OTHER = 6,
};

char* copy_of(const std::string& what) {
  char* out = static_cast<char*>(std::malloc(what.size() + 1));
  if (out != nullptr) std::memcpy(out, what.c_str(), what.size() + 1);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool has(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// One line: the message without LibTorch's "Exception raised from ..." backtrace, its lines
// joined with "; ".
std::string one_line(std::string msg) {
  auto cut = msg.find("Exception raised from");
  if (cut != std::string::npos) msg.erase(cut);
  std::string out;
  bool pending = false;
  for (char c : msg) {
    if (c == '\n' || c == '\r') {
      pending = !out.empty();
      continue;
    }
    if (pending) {
      while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ';')) out.pop_back();
      out += "; ";
      pending = false;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out.empty() ? std::string("unknown c10d error") : out;
}

// Sorts a c10d or Gloo failure by its message: c10d throws its network and store errors with
// the same types for timeouts and refused connections, so the text is what tells them apart.
int classify(const std::string& msg) {
  auto m = lower(msg);
  if (has(m, "address already in use") || has(m, "eaddrinuse")) return TK_DIST_ADDRESS_IN_USE;
  if (has(m, "timed out") || has(m, "timeout") || has(m, "time out")) return TK_DIST_TIMEOUT;
  if (has(m, "connection") || has(m, "connect") || has(m, "peer") || has(m, "broken pipe") || has(m, "socket") ||
      has(m, "closed") || has(m, "reset") || has(m, "eof") || has(m, "network") || has(m, "read error") ||
      has(m, "write error") || has(m, "unreachable") || has(m, "refused") || has(m, "hostname"))
    return TK_DIST_PEER;
  return TK_DIST_OTHER;
}

template <typename F>
char* guarded(int* kind, F f) {
  *kind = TK_DIST_OK;
  try {
    f();
    return nullptr;
  } catch (const c10::Error& e) {
    auto msg = one_line(e.what_without_backtrace());
    *kind = classify(msg);
    return copy_of(msg);
  } catch (const std::exception& e) {
    auto msg = one_line(e.what());
    *kind = classify(msg);
    return copy_of(msg);
  } catch (...) {
    *kind = TK_DIST_OTHER;
    return copy_of("unknown C++ exception in c10d");
  }
}

// c10d logs each failure with LibTorch's C++ backtrace at ERROR level before throwing it, and
// the caller reports the thrown error on one line: unless TORCH_CPP_LOG_LEVEL asks for
// LibTorch's logs, only FATAL ones are shown once a group is made.
void quiet_logs() {
  if (std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr) FLAGS_caffe2_log_level = 3;
}

struct TkGroup {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::chrono::milliseconds timeout{0};
  int nccl = 0;
  int cuda_device = -1;
};

// Waits for `work` within the group's timeout; a wait that returns false timed out. NCCL's
// work is only ordered on the current stream (a wait with a timeout would block the host until
// the collective ends, and cannot run inside a CUDA-graph capture); c10d's watchdog enforces
// the group's timeout on it. A barrier's wait still synchronises the device.
void finish(TkGroup* g, const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  if (g->nccl) {
    work->wait();
    return;
  }
  if (!work->wait(g->timeout)) {
    throw std::runtime_error(std::string(what) + " timed out after " + std::to_string(g->timeout.count()) + " ms");
  }
}
}  // namespace

extern "C" {
int tk_dist_gloo_available() {
#ifdef USE_C10D_GLOO
  return 1;
#else
  return 0;
#endif
}

int tk_dist_nccl_available() {
#ifdef USE_C10D_NCCL
  return 1;
#else
  return 0;
#endif
}

// Joins a process group: `backend` 0 = Gloo, 1 = NCCL. `store_server` != 0 makes this rank host
// the TCPStore on addr:port (rank 0, unless a launcher such as torchrun hosts it); the others
// connect to it. Every key is put under `prefix`. `timeout_ms` bounds the rendezvous and every
// later collective. `cuda_device` is the NCCL rank's device (ignored for Gloo); `gloo_ifaces`
// (may be NULL) names the network interfaces Gloo uses, as GLOO_SOCKET_IFNAME does in PyTorch.
char* tk_dist_new(int backend, const char* addr, int port, int rank, int world, int store_server, const char* prefix,
                  int64_t timeout_ms, int cuda_device, const char* gloo_ifaces, void** out, int* kind) {
  *out = nullptr;
  quiet_logs();
  return guarded(kind, [&] {
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = store_server != 0;
    opts.numWorkers = static_cast<std::size_t>(world);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    opts.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(std::string(addr), opts);
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), tcp);
    auto group = std::make_unique<TkGroup>();
    group->store = store;
    group->timeout = timeout;
    if (backend == 0) {
#ifdef USE_C10D_GLOO
      // Which local address Gloo's connections use, as PyTorch picks it: the interfaces in
      // GLOO_SOCKET_IFNAME (comma-separated); loopback when the master is on this machine's
      // loopback; else the address this machine's host name resolves to (loopback if none).
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      std::string ifaces = gloo_ifaces == nullptr ? "" : gloo_ifaces;
      std::string host(addr);
      if (!ifaces.empty()) {
        size_t start = 0;
        while (start <= ifaces.size()) {
          auto end = ifaces.find(',', start);
          if (end == std::string::npos) end = ifaces.size();
          auto name = ifaces.substr(start, end - start);
          if (!name.empty()) options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
          start = end + 1;
        }
      } else if (host.rfind("127.", 0) == 0 || host == "localhost" || host == "::1") {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      group->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
#else
      throw std::runtime_error("built without Gloo");
#endif
    } else {
#ifdef USE_C10D_NCCL
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(cuda_device));
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      group->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
      group->nccl = 1;
      group->cuda_device = cuda_device;
#else
      (void)cuda_device;
      throw std::runtime_error("built without NCCL");
#endif
    }
    *out = group.release();
  });
}

// Reduces `tensor` in place across the group: op 0 = sum, 1 = max, 2 = min.
char* tk_dist_all_reduce(void* g, at::Tensor* tensor, int op, int* kind) {
  return guarded(kind, [&] {
    auto* group = static_cast<TkGroup*>(g);
    c10d::AllreduceOptions opts;
    opts.reduceOp = op == 1 ? c10d::ReduceOp::MAX : op == 2 ? c10d::ReduceOp::MIN : c10d::ReduceOp::SUM;
    opts.timeout = group->timeout;
    std::vector<at::Tensor> tensors{*tensor};
    finish(group, group->backend->allreduce(tensors, opts), "all-reduce");
  });
}

// Copies rank `root`'s `tensor` into every rank's `tensor`.
char* tk_dist_broadcast(void* g, at::Tensor* tensor, int root, int* kind) {
  return guarded(kind, [&] {
    auto* group = static_cast<TkGroup*>(g);
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.rootTensor = 0;
    opts.timeout = group->timeout;
    std::vector<at::Tensor> tensors{*tensor};
    finish(group, group->backend->broadcast(tensors, opts), "broadcast");
  });
}

// Returns once every rank has called it.
char* tk_dist_barrier(void* g, int* kind) {
  return guarded(kind, [&] {
    auto* group = static_cast<TkGroup*>(g);
    c10d::BarrierOptions opts;
    opts.timeout = group->timeout;
    if (group->nccl) opts.device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(group->cuda_device));
    finish(group, group->backend->barrier(opts), "barrier");
  });
}

void tk_dist_free(void* g) {
  try {
    delete static_cast<TkGroup*>(g);
  } catch (...) {
  }
}
}
