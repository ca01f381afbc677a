// Host side of thread-block clusters and extended launches: a launch
// configuration whose grid is cut into clusters of `cluster` CTAs (sizes
// above 8 are non-portable and need the kernel's opt-in, which this takes),
// optionally with programmatic dependent launch (pdl.h).
#pragma once
#include <cuda_runtime_api.h>

namespace wf {

// A launch configuration: clusters of `cluster` CTAs (1 × 1 × 1: none), and
// with `pdl` programmatic stream serialization (pdl.h; sm_90).
struct ClusterLaunch {
  cudaLaunchConfig_t cfg{};
  cudaLaunchAttribute attrs[2]{};
  template <typename Kernel>
  ClusterLaunch(Kernel kernel, dim3 grid, dim3 block, int smem, cudaStream_t stream, dim3 cluster, bool pdl = false) {
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = (size_t)smem;
    cfg.stream = stream;
    cfg.attrs = attrs;
    if (cluster.x * cluster.y * cluster.z > 1) {
      cudaLaunchAttribute& a = attrs[cfg.numAttrs++];
      a.id = cudaLaunchAttributeClusterDimension;
      a.val.clusterDim.x = cluster.x, a.val.clusterDim.y = cluster.y, a.val.clusterDim.z = cluster.z;
    }
    if (pdl) {
      cudaLaunchAttribute& a = attrs[cfg.numAttrs++];
      a.id = cudaLaunchAttributeProgrammaticStreamSerialization;
      a.val.programmaticStreamSerializationAllowed = 1;
    }
    if (cluster.x * cluster.y * cluster.z > 8) cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
  }
  ClusterLaunch(const ClusterLaunch&) = delete;  // cfg points into it
};

// Launches kernel(args...) in clusters of `cluster` CTAs. False, with the
// launch error cleared, where the GPU cannot place such clusters: the
// caller then launches without them.
template <typename Kernel, typename... Args>
bool launch_in_clusters(Kernel kernel, dim3 grid, dim3 block, int smem, cudaStream_t stream, dim3 cluster, bool pdl, Args... args) {
  const ClusterLaunch l(kernel, grid, block, smem, stream, cluster, pdl);
  if (cudaLaunchKernelEx(&l.cfg, kernel, args...) == cudaSuccess) return true;
  (void)cudaGetLastError();
  return false;
}

// Launches kernel(args...) without clusters, with programmatic stream
// serialization where `pdl` (and without it where the launch refuses it);
// the launch error is left for the caller.
template <typename Kernel, typename... Args>
void launch_plain(Kernel kernel, dim3 grid, dim3 block, int smem, cudaStream_t stream, bool pdl, Args... args) {
  {
    const ClusterLaunch l(kernel, grid, block, smem, stream, dim3(1, 1, 1), pdl);
    if (cudaLaunchKernelEx(&l.cfg, kernel, args...) == cudaSuccess || !pdl) return;
  }
  (void)cudaGetLastError();
  const ClusterLaunch l(kernel, grid, block, smem, stream, dim3(1, 1, 1), false);
  (void)cudaLaunchKernelEx(&l.cfg, kernel, args...);
}

// How many clusters of `cluster` CTAs of `kernel` the GPU holds at once
// (0 where it cannot say; the error is cleared).
template <typename Kernel>
int max_active_clusters(Kernel kernel, dim3 block, int smem, dim3 cluster) {
  const ClusterLaunch l(kernel, cluster, block, smem, nullptr, cluster);
  int n = 0;
  if (cudaOccupancyMaxActiveClusters(&n, kernel, &l.cfg) == cudaSuccess) return n;
  (void)cudaGetLastError();
  return 0;
}

}  // namespace wf
