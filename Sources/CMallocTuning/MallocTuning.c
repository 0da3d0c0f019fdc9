#include "CMallocTuning.h"
#include <stdlib.h>   /* defines __GLIBC__ on glibc */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int gc_malloc_tune(void) {
#if defined(__GLIBC__)
    // Fixed thresholds also switch off glibc's dynamic mmap threshold, which otherwise grows after
    // the first large free and keeps later large buffers on the heap.
    // Two arenas: the engine works on one serial queue and the I/O threads come and go; every
    // further arena keeps its own free fragments and the resident size creeps up over hours.
    return mallopt(M_MMAP_THRESHOLD, 1 << 20) && mallopt(M_TRIM_THRESHOLD, 1 << 20) && mallopt(M_ARENA_MAX, 2);
#else
    return 0;
#endif
}
