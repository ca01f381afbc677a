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

}  // namespace wf
