#ifndef CMALLOC_TUNING_H
#define CMALLOC_TUNING_H

/// Makes large allocations (1 MiB and up) come from their own mappings, returns freed heap tops
/// to the system beyond 1 MiB and keeps to two heap arenas, so a long-running daemon whose large
/// buffers come and go (checkpoints, batches) keeps a flat resident size. Returns 1 on glibc, 0
/// where not available.
int gc_malloc_tune(void);

#endif
