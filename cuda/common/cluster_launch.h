// Host side of thread-block clusters: a launch configuration whose grid is
// cut into clusters of `cluster` CTAs. Sizes above 8 are non-portable and
// need the kernel's opt-in, which this takes.
#pragma once
#include <cuda_runtime_api.h>

namespace wf {

struct ClusterLaunch {
  cudaLaunchConfig_t cfg{};
  cudaLaunchAttribute attr{};
  template <typename Kernel>
  ClusterLaunch(Kernel kernel, dim3 grid, dim3 block, int smem, cudaStream_t stream, dim3 cluster) {
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = (size_t)smem;
    cfg.stream = stream;
    attr.id = cudaLaunchAttributeClusterDimension;
    attr.val.clusterDim.x = cluster.x, attr.val.clusterDim.y = cluster.y, attr.val.clusterDim.z = cluster.z;
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
    if (cluster.x * cluster.y * cluster.z > 8) cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
  }
  ClusterLaunch(const ClusterLaunch&) = delete;  // cfg points into it
};

// Launches kernel(args...) in clusters of `cluster` CTAs. False, with the
// launch error cleared, where the GPU cannot place such clusters: the
// caller then launches without them.
template <typename Kernel, typename... Args>
bool launch_in_clusters(Kernel kernel, dim3 grid, dim3 block, int smem, cudaStream_t stream, dim3 cluster, Args... args) {
  const ClusterLaunch l(kernel, grid, block, smem, stream, cluster);
  if (cudaLaunchKernelEx(&l.cfg, kernel, args...) == cudaSuccess) return true;
  (void)cudaGetLastError();
  return false;
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
